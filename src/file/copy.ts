// COPY as BuildKit does it, performed by kitbuild itself: wildcards, a directory's contents, trailing
// slash destinations, owners and modes. Sources are resolved inside their tree and destinations
// inside the target root, so no symlink on either side can reach outside.
import { chmodSync, chownSync, lstatSync, mkdirSync } from "node:fs";
import { posix } from "node:path";
import type { CopyAction } from "../llb/ops.ts";
import { copyTree, lstatOrUndefined, type Owner } from "../util/copy-tree.ts";
import { KitError } from "../util/errors.ts";
import { cleanInRoot, inRootPath, resolveInRoot } from "../util/fs-safe.ts";
import type { SourceTree } from "./source-tree.ts";
import { hasWildcard, resolveWildcards } from "./wildcard.ts";

export type CopyParams = Omit<CopyAction, "action" | "srcInput" | "owner"> & { owner?: Owner };

/** The source paths (absolute within the tree) a copy reads, after wildcards and exclusions. */
export function copySources(from: SourceTree, src: string, allowWildcard: boolean): string[] {
  const clean = cleanInRoot(src);
  const candidates = allowWildcard && hasWildcard(src) ? resolveWildcards(from.root, clean) : [clean];
  return candidates.filter((p) => {
    if (p !== "/" && from.isExcluded?.(p.slice(1))) return false;
    return lstatOrUndefined(resolveInRoot(from.root, p, false)) !== undefined;
  });
}

export async function copyInto(from: SourceTree, destRoot: string, params: CopyParams, signal: AbortSignal): Promise<void> {
  refuseUnsupported(params);
  const sources = copySources(from, params.src, params.allowWildcard);
  if (sources.length === 0) {
    if (params.allowWildcard && hasWildcard(params.src) && params.allowEmptyWildcard) return;
    throw new KitError("E_COPY_NOT_FOUND", `"${cleanInRoot(params.src)}" not found`, {
      hint: "check that the path exists in the build context (or stage) and is not excluded by .dockerignore",
    });
  }
  const destIsDir = params.dest.endsWith("/") || params.dest.endsWith("/.") || params.dest === ".";
  const destRel = inRootPath(destRoot, params.dest, true);
  mkdirInRoot(destRoot, destIsDir ? destRel : posix.dirname(destRel), params.owner);
  for (const src of sources) {
    const srcHost = resolveInRoot(from.root, src, params.followSymlinks);
    const srcIsDir = lstatSync(srcHost).isDirectory();
    let target = resolveInRoot(destRoot, destRel, true);
    const destSt = lstatOrUndefined(target);
    if ((srcIsDir && !params.dirCopyContents && destSt) || (!srcIsDir && destSt?.isDirectory())) {
      target = `${target}/${posix.basename(src)}`;
    }
    const intoDir = srcIsDir && params.dirCopyContents;
    if (intoDir) mkdirInRoot(destRoot, target.slice(destRoot.length) || "/", params.owner);
    const relBase = src === "/" ? "" : src.slice(1);
    await copyTree(srcHost, target, {
      preserveOwner: !from.resetOwner,
      owner: params.owner ?? (from.resetOwner ? { uid: 0, gid: 0 } : undefined),
      mode: typeof params.mode === "number" ? params.mode : undefined,
      xattrs: true,
      signal,
      keepExistingRoot: intoDir,
      exclude: from.isExcluded ? (rel) => (from.isExcluded as (r: string) => boolean)(joinRel(relBase, rel)) : undefined,
      mustEnter: from.mustEnter ? (rel) => (from.mustEnter as (r: string) => boolean)(joinRel(relBase, rel)) : undefined,
    });
  }
}

function refuseUnsupported(params: CopyParams): void {
  const unsupported = [
    typeof params.mode === "string" && `a symbolic --chmod ("${params.mode}")`,
    params.attemptUnpack && "unpacking archives (ADD)",
    params.includePatterns?.length && "--parents",
    params.excludePatterns?.length && "--exclude",
  ].filter(Boolean);
  if (unsupported.length > 0) {
    throw new KitError("E_COPY_UNSUPPORTED", `${unsupported.join(", ")} is not supported by this version of kitbuild`, {
      hint: "use an octal --chmod and plain COPY for now",
    });
  }
}

function joinRel(base: string, rel: string): string {
  return base === "" ? rel : `${base}/${rel}`;
}

/** Creates a directory and its missing parents inside the root (0755, owned by `owner` or root). */
export function mkdirInRoot(root: string, rel: string, owner?: Owner, mode = 0o755): void {
  const parts = cleanInRoot(rel).split("/").filter(Boolean);
  let cur = "/";
  for (const part of parts) {
    const next = inRootPath(root, cur === "/" ? `/${part}` : `${cur}/${part}`, true);
    const host = root + next;
    const st = lstatOrUndefined(host);
    if (!st) {
      mkdirSync(host);
      if (owner) chownSync(host, owner.uid, owner.gid);
      chmodSync(host, mode);
    } else if (!st.isDirectory()) {
      throw new KitError("E_COPY_NOT_A_DIRECTORY", `cannot create directory "${next}": a file of that name exists`, {
        hint: "a destination path component is a file in the image",
      });
    }
    cur = next;
  }
}
