// COPY and ADD as BuildKit does them, performed by kitbuild itself: wildcards, a directory's
// contents, trailing-slash destinations, several sources, --chown/--chmod, --parents/--exclude,
// ADD's local archives unpacked. Sources are resolved inside their tree and destinations inside the
// target root, so no symlink on either side can reach outside.
import { lstatSync } from "node:fs";
import { posix } from "node:path";
import type { CopyAction } from "../llb/ops.ts";
import { extractArchive, sniffTarArchive } from "../archive/archive.ts";
import { lstatOrUndefined, type Owner } from "../fs/copy-tree.ts";
import { KitError } from "../util/errors.ts";
import { cleanInRoot, inRootPath, resolveInRoot } from "../fs/fs-safe.ts";
import { type DirOptions, mkdirInRoot } from "../fs/mkdir-in-root.ts";
import { PatternMatcher } from "../util/patterns.ts";
import { type ModeChange, parseMode } from "./chmod.ts";
import { Copier } from "./copier.ts";
import { NewFileWriters } from "../fs/new-file-writers.ts";
import type { SourceTree } from "./source-tree.ts";
import { hasWildcard, resolveWildcards } from "./wildcard.ts";

export type CopyParams = Omit<CopyAction, "action" | "srcInput" | "owner"> & { owner?: Owner };

/**
 * The source paths (absolute within the tree) a copy reads, after wildcards and exclusions. With
 * `followSymlinks`, a source that is a symlink is followed inside the tree (an absolute target is
 * taken from the tree's root, `..` stops there), so a link whose target is not in the tree is not
 * found, as in BuildKit.
 */
export function copySources(from: SourceTree, src: string, allowWildcard: boolean, followSymlinks = false): string[] {
  const clean = cleanInRoot(src);
  const candidates = allowWildcard && hasWildcard(src) ? resolveWildcards(from.root, clean) : [clean];
  const sources = candidates.filter((p) => {
    if (p !== "/" && from.isExcluded?.(p.slice(1))) return false;
    return lstatOrUndefined(resolveInRoot(from.root, p, false)) !== undefined;
  });
  if (followSymlinks) for (const p of sources) checkLinkTarget(from, p);
  return sources;
}

/** A source symlink whose target (resolved inside the tree) is missing: "not found", naming both. */
function checkLinkTarget(from: SourceTree, path: string): void {
  const followed = inRootPath(from.root, path, true);
  if (followed === path || lstatOrUndefined(resolveInRoot(from.root, followed, false))) return;
  throw new KitError("E_COPY_NOT_FOUND", `"${path}" not found: it is a symbolic link to "${followed}", which is not in the build context (or stage)`, {
    hint: "a symlink in the build context is resolved inside the context, as if the context were \"/\"; copy the file it points to into the context instead",
  });
}

export async function copyInto(from: SourceTree, destRoot: string, params: CopyParams, signal: AbortSignal): Promise<void> {
  const sources = copySources(from, params.src, params.allowWildcard, params.followSymlinks);
  if (sources.length === 0) {
    if (params.allowWildcard && hasWildcard(params.src) && params.allowEmptyWildcard) return;
    throw notFound(cleanInRoot(params.src));
  }
  for (const required of params.requiredPaths ?? []) {
    if (!lstatOrUndefined(resolveInRoot(from.root, required, false))) throw notFound(cleanInRoot(required));
  }
  const mode = modeOf(params.mode);
  const timestampNs = params.timestamp === undefined ? undefined : BigInt(params.timestamp) * 1_000_000_000n;
  const dirs = { owner: params.owner, mode: typeof params.mode === "number" ? params.mode : 0o755, timestampNs };
  const destIsDir = /(^|\/)\.?$/.test(params.dest);
  const destClean = cleanInRoot(params.dest);
  if (!params.createDestPath && !lstatOrUndefined(resolveInRoot(destRoot, posix.dirname(destClean), true))) {
    throw new KitError("E_COPY_NOT_FOUND", `the parent directory of "${destClean}" does not exist`);
  }
  mkdirInRoot(destRoot, destIsDir ? destClean : posix.dirname(destClean), dirs);
  const dest = resolveInRoot(destRoot, destClean, true);
  const threads = NewFileWriters.threads();
  // Disposed also on failure: no worker may still be writing into the destination after this.
  await using writers = threads > 0 ? new NewFileWriters(threads) : undefined;
  for (const src of sources) {
    const srcHost = resolveInRoot(from.root, src, params.followSymlinks);
    if (params.attemptUnpack && (await unpack(srcHost, src, destRoot, destClean, dirs, signal))) continue;
    const target = prepareTarget(destRoot, srcHost, src, dest, params.dirCopyContents, dirs);
    const relBase = src === "/" ? "" : src.slice(1);
    const inContext = (check?: (rel: string) => boolean) => (check ? (rel: string) => check(relBase === "" ? rel : `${relBase}/${rel}`) : undefined);
    const copier = new Copier({
      destRoot, owner: params.owner, resetOwner: from.resetOwner, mode, timestampNs,
      include: params.includePatterns?.length ? new PatternMatcher(params.includePatterns) : undefined,
      exclude: params.excludePatterns?.length ? new PatternMatcher(params.excludePatterns) : undefined,
      ignored: inContext(from.isExcluded), mustEnter: inContext(from.mustEnter),
      alwaysReplace: params.alwaysReplaceExistingDestPaths ?? false,
      writers,
      signal,
    });
    await copier.copy(srcHost, "", target, false);
    await copier.finish();
  }
}

/**
 * Where one source lands: into an existing directory under its own name (a file, or a directory
 * copied as itself), else at the destination path; creates the directories above it.
 */
function prepareTarget(destRoot: string, srcHost: string, src: string, dest: string, dirCopyContents: boolean, dirs: DirOptions): string {
  const srcIsDir = lstatSync(srcHost).isDirectory();
  const destSt = lstatOrUndefined(dest);
  const intoDir = (!dirCopyContents && srcIsDir && destSt) || (!srcIsDir && destSt?.isDirectory());
  const target = intoDir && src !== "/" ? `${dest}/${posix.basename(src)}` : dest;
  const parent = dirCopyContents && srcIsDir && !destSt ? target : posix.dirname(target);
  mkdirInRoot(destRoot, parent.slice(destRoot.length) || "/", dirs);
  return target;
}

/**
 * ADD: a local tar archive (plain, gzip, bzip2, xz or zstd, recognized by content) is unpacked into
 * the destination directory, its entries resolved inside that directory; false when `srcHost` is
 * not an archive, to be copied as it is.
 */
async function unpack(srcHost: string, src: string, destRoot: string, destClean: string, dirs: DirOptions, signal: AbortSignal): Promise<boolean> {
  const compression = await sniffTarArchive(srcHost, signal);
  if (compression === undefined) return false;
  mkdirInRoot(destRoot, destClean, { ...dirs, mode: 0o755 });
  const dir = resolveInRoot(destRoot, destClean, true);
  await extractArchive(srcHost, compression, dir, {
    whiteouts: false, absoluteNames: "strip", preserveOwner: true, owner: dirs.owner, what: `archive "${src}"`, signal,
  });
  return true;
}

function modeOf(mode: number | string | undefined): ModeChange | undefined {
  if (mode === undefined) return undefined;
  return typeof mode === "number" ? () => mode : parseMode(mode);
}

function notFound(path: string): KitError {
  return new KitError("E_COPY_NOT_FOUND", `"${path}" not found`, {
    hint: "check that the path exists in the build context (or stage) and is not excluded by .dockerignore",
  });
}
