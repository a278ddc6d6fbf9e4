// RUN: a shell or exec command run in the stage's filesystem as an exec op.
import { node, output } from "../../../llb/builder.ts";
import type { ExecOp } from "../../../llb/ops.ts";
import type { RunCommand } from "../instructions/types.ts";
import { chompHeredocContent, parseHeredoc } from "../parser/parser.ts";
import { shellOf } from "./dispatch-config.ts";
import { commitHistory, displayText, envGetter, getEnv, stepPrefix, type StageState } from "./state.ts";
import type { StepContext } from "./step-context.ts";

export function dispatchRun(s: StageState, c: RunCommand, ctx: StepContext): void {
  if (c.mounts.length > 0) {
    throw ctx.unsupported("RUN --mount", "RUN --mount is not implemented yet; copy what the step needs with COPY instead");
  }
  const network = c.network ?? "default";
  if (network !== "default" && network !== "host" && network !== "none") {
    throw new Error(`unsupported network mode "${network}"; use default, none or host`);
  }
  const security = c.security ?? "sandbox";
  if (security !== "sandbox" && security !== "insecure") throw new Error(`unsupported security mode "${security}"`);
  const args = runArgs(s, c);
  const name = `${stepPrefix(s)}${displayText(ctx.escapeToken, upperFirstWord(c.original), envGetter(s))}`;
  const op: ExecOp = {
    kind: "exec",
    meta: { args, env: s.env, cwd: s.workdir, user: s.user },
    mounts: [{ type: "bind", dest: "/", input: s.output ? 0 : -1, output: 0, readonly: false }],
    network: network === "none" ? "none" : "host",
    security,
  };
  s.output = output(node(op, s.output ? [s.output] : [], ctx.meta(name, c.location)));
  commitHistory(s, `RUN ${runCommandString(s, args)}`, true);
}

function runArgs(s: StageState, c: RunCommand): string[] {
  let args = c.cmdLine;
  if (c.heredocs.length > 0) {
    const first = c.heredocs[0];
    const single = args.length === 1 && first && parseHeredoc(args[0] as string);
    if (single && c.heredocs.length === 1) {
      // A lone heredoc is the script itself, run by the shell.
      args = [first.chomp ? chompHeredocContent(first.content) : first.content];
    } else {
      args = [(args[0] ?? "") + c.heredocs.map((h) => `\n${h.content}${h.name}`).join("")];
    }
  }
  return c.prependShell ? [...shellOf(s), args.join(" ")] : args;
}

/** The history text of a RUN: "|N K=V … " for the stage's ARGs, then the command. */
function runCommandString(s: StageState, args: string[]): string {
  const argEnv = s.args.map((k) => `${k}=${getEnv(s.env, k) ?? ""}`);
  const prefix = argEnv.length > 0 ? [`|${argEnv.length}`, ...argEnv] : [];
  return [...prefix, ...args].join(" ");
}

export function upperFirstWord(text: string): string {
  const m = /^(\s*)(\S+)/.exec(text);
  return m ? `${m[1]}${(m[2] as string).toUpperCase()}${text.slice(m[0].length)}` : text;
}
