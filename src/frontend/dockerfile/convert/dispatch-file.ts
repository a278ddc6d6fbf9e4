// WORKDIR, COPY and ADD: file ops that kitbuild performs itself on the stage's filesystem.
import { posix } from "node:path";
import { node, output, type Output } from "../../../llb/builder.ts";
import type { ChownOpt, CopyAction, FileOp } from "../../../llb/ops.ts";
import type { CopyCommand, WorkdirCommand } from "../instructions/types.ts";
import type { ShellLex } from "../shell/lex.ts";
import { upperFirstWord } from "./dispatch-run.ts";
import { commitHistory, displayText, envGetter, expand, stepPrefix, type StageState } from "./state.ts";
import type { StepContext } from "./step-context.ts";

export function dispatchWorkdir(s: StageState, c: WorkdirCommand, lex: ShellLex, ctx: StepContext): void {
  const requested = expand(lex, c.path, envGetter(s));
  s.workdir = posix.normalize(posix.isAbsolute(requested) ? requested : posix.join("/", s.workdir, requested)).replace(/(.)\/$/, "$1");
  s.image.config.WorkingDir = s.workdir;
  if (s.workdir !== "/") {
    const name = `${stepPrefix(s)}${displayText(ctx.escapeToken, upperFirstWord(c.original), envGetter(s))}`;
    const owner = s.user ? parseChown(s.user) : undefined;
    const op: FileOp = {
      kind: "file",
      base: s.output ? 0 : -1,
      actions: [{ action: "mkdir", path: s.workdir, mode: 0o755, makeParents: true, ...(owner ? { owner } : {}) }],
    };
    s.output = output(node(op, s.output ? [s.output] : [], ctx.meta(name, c.location)));
  } else {
    stepPrefix(s);
  }
  commitHistory(s, `WORKDIR ${s.workdir}`, s.workdir !== "/");
}

export function dispatchCopy(s: StageState, c: CopyCommand, lex: ShellLex, ctx: StepContext): void {
  const env = envGetter(s);
  if (c.heredocs.length > 0) throw ctx.unsupported(`${c.kind.toUpperCase()} with a heredoc`, "write the file with RUN, or COPY it from the context");
  if (c.parents || c.exclude.length > 0 || c.link) {
    throw ctx.unsupported(`${c.kind.toUpperCase()} --parents/--exclude/--link`, "drop the flag for now");
  }
  const sources = c.sources.map((src) => expand(lex, src, env));
  const destWord = expand(lex, c.dest, env);
  if (c.kind === "add" && sources.some((src) => /^(https?|git):\/\/|\.git(#|$)|^git@/.test(src))) {
    throw ctx.unsupported("ADD from a URL or git repository", "download the file in a RUN step for now");
  }
  const dest = destPath(s.workdir, destWord);
  if ((sources.length > 1 || sources.some(hasWildcard)) && !dest.endsWith("/")) {
    throw new Error(`When using ${c.kind.toUpperCase()} with more than one source file, the destination must be a directory and end with a /`);
  }
  const fromRef = c.from === undefined ? undefined : expand(lex, c.from, env);
  const from = fromRef === undefined ? ctx.context() : (ctx.stage(fromRef)?.output ?? ctx.image(fromRef));
  const owner = c.chown === undefined ? undefined : parseChown(expand(lex, c.chown, env));
  const mode = c.chmod === undefined ? undefined : parseChmod(expand(lex, c.chmod, env));
  const inputs: Output[] = s.output ? [s.output, from] : [from];
  const srcInput = inputs.length - 1;
  const actions: CopyAction[] = sources.map((src) => ({
    action: "copy",
    srcInput,
    src: fromRef === undefined ? posix.join("/", src) : src,
    dest,
    ...(owner ? { owner } : {}),
    ...(mode !== undefined ? { mode } : {}),
    followSymlinks: true,
    dirCopyContents: true,
    createDestPath: true,
    allowWildcard: true,
    allowEmptyWildcard: true,
  }));
  const op: FileOp = { kind: "file", base: s.output ? 0 : -1, actions };
  const name = `${stepPrefix(s)}${displayText(ctx.escapeToken, upperFirstWord(c.original), env)}`;
  s.output = output(node(op, inputs, ctx.meta(name, c.location)));
  const fromText = fromRef === undefined ? "" : `--from=${fromRef} `;
  commitHistory(s, `${c.kind.toUpperCase()} ${fromText}${sources.join(" ")} ${destWord}`, true);
}

/** The destination relative to WORKDIR, keeping a trailing slash ("." and "" mean the WORKDIR). */
function destPath(workdir: string, dest: string): string {
  const p = dest === "" || dest === "." ? "./" : dest;
  const joined = posix.isAbsolute(p) ? posix.normalize(p) : posix.join("/", workdir, p);
  const dirLike = p.endsWith("/") || p.endsWith("/.") || p === ".";
  return dirLike && !joined.endsWith("/") ? `${joined}/` : joined;
}

function hasWildcard(p: string): boolean {
  return /[*?[]/.test(p);
}

/** "user", "user:group", "1000:1000" as a ChownOpt; names are resolved against the destination. */
export function parseChown(spec: string): ChownOpt {
  const [user = "", group] = spec.split(":", 2);
  const id = (v: string) => (/^\d+$/.test(v) ? Number(v) : v);
  if (user === "") throw new Error(`invalid chown "${spec}"`);
  return group === undefined || group === "" ? { user: id(user) } : { user: id(user), group: id(group) };
}

function parseChmod(spec: string): number {
  if (!/^[0-7]{3,4}$/.test(spec)) {
    throw new Error(`invalid chmod "${spec}": only octal modes (like 0755) are supported yet`);
  }
  return Number.parseInt(spec, 8);
}
