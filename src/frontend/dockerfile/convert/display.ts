// Step names as BuildKit shows them: "[stage 2/5] " then the instruction as written with its
// variables expanded and the keyword uppercased. RUN keeps quotes and unknown variables as
// written; COPY, ADD and WORKDIR are expanded like their arguments.
import { envFromList, type EnvGetter, ShellLex } from "../shell/lex.ts";
import type { DispatchContext } from "./dispatch-context.ts";
import { stepPrefix, uppercaseCmd, envGetter, type StageState } from "./state.ts";

export type DisplayOptions = { raw: boolean; env?: EnvGetter };

export function displayName(s: StageState, ctx: DispatchContext, original: string, opts: DisplayOptions): string {
  const { prefix, text } = displayParts(s, ctx, original, opts);
  return prefix + text;
}

/** The step prefix (which advances the stage's step counter) and the instruction text, apart. */
export function displayParts(s: StageState, ctx: DispatchContext, original: string, opts: DisplayOptions): { prefix: string; text: string } {
  const text = uppercaseCmd(expandForDisplay(ctx, original, opts.env ?? envGetter(s), opts.raw));
  return { prefix: stepPrefix(s), text };
}

function expandForDisplay(ctx: DispatchContext, text: string, env: EnvGetter, raw: boolean): string {
  const lex = raw ? new ShellLex(ctx.escapeToken, { rawQuotes: true, skipUnsetEnv: true }) : ctx.lex;
  try {
    return lex.processWord(text, env).result;
  } catch {
    return text;
  }
}

/** The environment with secret-env variables shown as "****" (RUN --mount=type=secret,env=NAME). */
export function maskSecrets(env: EnvGetter, names: readonly string[]): EnvGetter {
  if (names.length === 0) return env;
  const list = env.keys().filter((k) => !names.includes(k)).map((k) => `${k}=${env.get(k) ?? ""}`);
  return envFromList([...list, ...names.map((n) => `${n}=****`)]);
}
