// The state of one stage while it is converted: its graph output so far, its exec environment,
// working directory, user and shell, its image config, and its step counter for progress names.
import type { Output } from "../../../llb/builder.ts";
import type { ImageConfig } from "../../../oci/types.ts";
import type { Stage } from "../instructions/types.ts";
import { ShellLex, envFromList, type EnvGetter } from "../shell/lex.ts";

export type StageState = {
  stage: Stage;
  /** "build" for `AS build`, "stage-N" otherwise; "" when the Dockerfile has a single stage. */
  displayName: string;
  /** The filesystem so far; undefined is scratch. */
  output: Output | undefined;
  /** The environment RUN sees: the config's Env plus ARG values. */
  env: string[];
  image: ImageConfig;
  workdir: string;
  user: string;
  /** Declared ARG names in this stage, in order. */
  args: string[];
  cmdIndex: number;
  cmdTotal: number;
  /** Whether CMD was set in this stage (ENTRYPOINT keeps it then). */
  cmdSet: boolean;
};

export const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function setEnv(list: string[], key: string, value: string): string[] {
  const i = list.findIndex((e) => e.slice(0, e.indexOf("=") < 0 ? e.length : e.indexOf("=")) === key);
  const entry = `${key}=${value}`;
  if (i < 0) return [...list, entry];
  const out = [...list];
  out[i] = entry;
  return out;
}

export function getEnv(list: readonly string[], key: string): string | undefined {
  const found = list.find((e) => e.startsWith(`${key}=`));
  return found?.slice(key.length + 1);
}

export function envGetter(s: StageState): EnvGetter {
  return envFromList(s.env);
}

/** Expands one word with the stage's environment (quotes removed). */
export function expand(lex: ShellLex, word: string, env: EnvGetter): string {
  return lex.processWord(word, env).result;
}

/** "[build 2/5] " and the like, as BuildKit prefixes step names. */
export function stepPrefix(s: StageState): string {
  if (s.cmdTotal === 0) return "";
  s.cmdIndex++;
  const width = String(s.cmdTotal).length;
  const name = s.displayName ? `${s.displayName} ` : "";
  return `[${name}${String(s.cmdIndex).padStart(width, " ")}/${s.cmdTotal}] `;
}

/** A step's display text with variables expanded, leaving unknown ones and quotes as written. */
export function displayText(escapeToken: string, text: string, env: EnvGetter): string {
  try {
    return new ShellLex(escapeToken, { rawQuotes: true, skipUnsetEnv: true }).processWord(text, env).result;
  } catch {
    return text;
  }
}

export function countSteps(stage: Stage, fromIsImage: boolean): number {
  let total = fromIsImage ? 1 : 0;
  for (const c of stage.commands) if (c.kind === "add" || c.kind === "copy" || c.kind === "run" || c.kind === "workdir") total++;
  return total;
}

export const HISTORY_COMMENT = "buildkit.dockerfile.v0";

export function commitHistory(s: StageState, createdBy: string, withLayer: boolean): void {
  s.image.history ??= [];
  s.image.history.push({
    created_by: withLayer ? `${createdBy} # buildkit` : createdBy,
    comment: HISTORY_COMMENT,
    ...(withLayer ? {} : { empty_layer: true }),
  });
}
