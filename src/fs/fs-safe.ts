// In-root path resolution. Every path that comes from a Dockerfile, a context, a layer or a
// container is resolved as if `root` were "/": `..` stops at the root, and symlinks met on the way
// (absolute or relative) are followed inside the root, never out of it.
import { lstatSync, readlinkSync } from "node:fs";
import { posix } from "node:path";
import { KitError, errnoCode } from "../util/errors.ts";

const MAX_SYMLINKS = 255;

/** Cleans a path given inside a root into an absolute, normalized form ("/a/b"). */
export function cleanInRoot(p: string): string {
  return posix.normalize(`/${p}`).replace(/\/+$/, "") || "/";
}

/**
 * Resolves `path` inside `root` to a host path. Parent components are resolved through symlinks in
 * the root; the final component is followed only when `followFinal` is set. Components that do not
 * exist are kept as they are, so the result may name something yet to be created.
 */
export function resolveInRoot(root: string, path: string, followFinal = false): string {
  const rel = inRootPath(root, path, followFinal);
  return rel === "/" ? root : root + rel;
}

/** Like resolveInRoot, but returns the resolved path relative to the root ("/a/b"). */
export function inRootPath(root: string, path: string, followFinal = false): string {
  let pending = cleanInRoot(path).split("/").filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift() as string;
    if (name === "..") {
      done.pop();
      continue;
    }
    if (name === ".") continue;
    const isFinal = pending.length === 0;
    const host = `${root}/${[...done, name].join("/")}`;
    if (isFinal && !followFinal) {
      done.push(name);
      break;
    }
    const target = readLinkIfSymlink(host);
    if (target === undefined) {
      done.push(name);
      continue;
    }
    if (++links > MAX_SYMLINKS) {
      throw new KitError("E_FS_SYMLINK_LOOP", `too many levels of symbolic links resolving "${path}"`);
    }
    const next = target.split("/").filter(Boolean);
    if (target.startsWith("/")) done.length = 0;
    pending = [...next, ...pending];
  }
  return `/${done.join("/")}`;
}

function readLinkIfSymlink(host: string): string | undefined {
  try {
    if (!lstatSync(host).isSymbolicLink()) return undefined;
    return readlinkSync(host);
  } catch (e) {
    const code = errnoCode(e);
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
}
