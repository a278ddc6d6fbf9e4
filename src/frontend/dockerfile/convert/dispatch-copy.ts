// COPY and ADD: one file op whose copy actions read from the build context, a stage or image
// (--from), heredocs, and for ADD URLs and git repositories; --link stacks the copied files as a
// layer of their own (a merge op); history and step names as BuildKit writes them.
import { node, output, type Output } from "../../../llb/builder.ts";
import type { CopyAction, MergeOp } from "../../../llb/ops.ts";
import type { CopyCommand } from "../instructions/types.ts";
import { ShellLex } from "../shell/lex.ts";
import { copyActionFor, heredocSource, type CopyOptions, parseChmod, remoteSource } from "./copy-actions.ts";
import type { DispatchContext } from "./dispatch-context.ts";
import { expander } from "./dispatch-config.ts";
import { displayParts } from "./display.ts";
import { chownOf, destPath, rootJoin } from "./paths.ts";
import { isHttpSource, parseGitRef } from "./remote-source.ts";
import { commitHistory, envGetter, inputIndex, type StageState } from "./state.ts";

type Expanded = { chown: string; chmod: string; checksum: string; sources: string[]; dest: string };

export function dispatchCopy(s: StageState, c: CopyCommand, from: StageState | undefined, ctx: DispatchContext): void {
  const expand = expander(s, ctx);
  const x: Expanded = {
    chown: c.chown === undefined ? "" : expand(c.chown),
    chmod: c.chmod === undefined ? "" : expand(c.chmod),
    checksum: c.checksum === undefined ? "" : expand(c.checksum),
    sources: c.sourcePaths.map(expand),
    dest: expand(c.dest),
  };
  if (c.from !== undefined && from && !from.dispatched) {
    throw new Error(`cannot copy from stage "${c.from}", it needs to be defined before current stage "${s.stageName}"`);
  }
  checkChecksum(c.kind === "add", x.checksum, x.sources);
  const opts: CopyOptions = {
    dest: destPath(s.workdir, x.dest),
    mode: x.chmod === "" ? undefined : parseChmod(x.chmod),
    owner: x.chown === "" ? undefined : chownOf(x.chown),
    exclude: c.exclude,
  };
  const { prefix, text } = displayParts(s, ctx, c.original, { raw: false });
  const link = c.link && x.chmod === "";
  const inputs: Output[] = s.output && !link ? [s.output] : [];
  const actions = [...pathActions(c, x, opts, from, prefix + text, inputs, ctx), ...heredocActions(s, c, opts, inputs)];
  const meta = ctx.meta(prefix + text, c.location, s.ignoreCache);
  if (!link) {
    s.output = output(node({ kind: "file", base: s.output ? 0 : -1, actions }, inputs, meta));
  } else {
    // COPY --link: the files land on scratch and are stacked over the stage by a merge op.
    const copied = output(node({ kind: "file", base: -1, actions }, inputs, meta));
    const merge: MergeOp = { kind: "merge" };
    s.output = s.output ? output(node(merge, [s.output, copied], ctx.meta(`${prefix}LINK ${text}`, c.location, s.ignoreCache))) : copied;
  }
  recordContextPaths(s, c, x.sources, from);
  commitHistory(s, historyText(c, x), { withLayer: true, fromState: true, epoch: ctx.epoch });
}

/** Copies of the named sources: URLs and git repositories (ADD), else context or --from paths. */
function pathActions(
  c: CopyCommand, x: Expanded, opts: CopyOptions, from: StageState | undefined, name: string, inputs: Output[], ctx: DispatchContext,
): CopyAction[] {
  return x.sources.map((src) => {
    const remote = remoteSource(src, c, x.checksum, name, c.kind === "add");
    if (remote) return { ...copyActionFor(remote.kind, remote.path, opts, remote.unpack), srcInput: inputIndex(inputs, remote.output) };
    const tree = from ? (from.output ?? emptySource()) : ctx.buildContext();
    return { ...localCopy(src, c, opts, c.kind === "add"), srcInput: inputIndex(inputs, tree) };
  });
}

/** Copies of heredoc sources; an unquoted delimiter expands the step's variables in the content. */
function heredocActions(s: StageState, c: CopyCommand, opts: CopyOptions, inputs: Output[]): CopyAction[] {
  return c.sourceContents.map((doc) => {
    const data = doc.expand ? new ShellLex("\\", { skipProcessQuotes: true }).processWord(doc.data, envGetter(s)).result : doc.data;
    const src = heredocSource(doc.path, data);
    return { ...copyActionFor("inline", src.path, opts, false), srcInput: inputIndex(inputs, src.output) };
  });
}

/** "COPY --parents --chown=… --chmod=… src… <<doc… dest" (BuildKit leaves --from out). */
function historyText(c: CopyCommand, x: Expanded): string {
  const parts = [c.kind === "add" ? "ADD" : "COPY"];
  if (c.parents) parts.push("--parents");
  if (x.chown !== "") parts.push(`--chown=${x.chown}`);
  if (x.chmod !== "") parts.push(`--chmod=${x.chmod}`);
  return [...parts, ...x.sources, ...c.sourceContents.map((d) => `<<${d.path}`), x.dest].join(" ");
}

function checkChecksum(isAdd: boolean, checksum: string, sources: string[]): void {
  if (checksum === "") return;
  if (!isAdd) throw new Error("checksum can't be specified for COPY");
  if (sources.length !== 1) throw new Error("checksum can't be specified for multiple sources");
  const src = sources[0] as string;
  let git = false;
  try {
    git = parseGitRef(src) !== undefined;
  } catch {
    git = true;
  }
  if (!isHttpSource(src) && !git) throw new Error("checksum requires HTTP(S) or Git sources");
}

/** A copy from the context or a stage; --parents keeps the path below the "/./" pivot (or all of it). */
function localCopy(src: string, c: CopyCommand, opts: CopyOptions, isAdd: boolean): Omit<CopyAction, "srcInput"> {
  let from = src;
  let includePatterns: string[] | undefined;
  let requiredPaths: string[] | undefined;
  if (c.parents) {
    const pivot = src.indexOf("/./");
    const pattern = pivot < 0 ? src : src.slice(pivot + 3);
    from = pivot < 0 ? "/" : src.slice(0, pivot);
    const absPattern = pattern.startsWith("/") ? pattern : rootJoin(pattern);
    includePatterns = [absPattern.replace(/^\//, "")];
    if (!hasWildcards(from) && !hasWildcards(absPattern)) requiredPaths = [rootJoin(`${from}/${absPattern}`)];
  }
  return {
    ...copyActionFor("local", rootJoin(from), opts, c.unpack ?? isAdd),
    ...(includePatterns ? { includePatterns } : {}),
    ...(requiredPaths ? { requiredPaths } : {}),
  };
}

function hasWildcards(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    if (p[i] === "\\") i++;
    else if (p[i] === "*" || p[i] === "?" || p[i] === "[") return true;
  }
  return false;
}

/** An empty filesystem to copy from (a stage FROM scratch with no files yet). */
function emptySource(): Output {
  return output(node({ kind: "file", base: -1, actions: [] }, [], { name: "[internal] scratch" }));
}

/** The context paths a stage reads, so the context source can be limited to them. */
function recordContextPaths(s: StageState, c: CopyCommand, sources: string[], from: StageState | undefined): void {
  if (from) return;
  for (const src of sources) {
    if (c.kind === "add" && (src.startsWith("http://") || src.startsWith("https://"))) continue;
    s.ctxPaths.add(rootJoin(src));
  }
}
