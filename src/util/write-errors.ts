// One mapping from a failed write to what the user must know: the disk is full, read-only or not
// writable, which path it was (in the cache root or the build's output), and how much space was
// needed and is free. Write sites call it where the error enters (the content store, exporters,
// snapshot writes); anything that is not such an errno passes through unchanged.
import { statfsSync } from "node:fs";
import { dirname } from "node:path";
import { KitError, errnoCode, isKitError } from "./errors.ts";
import { formatBytes } from "./units.ts";

export type WriteSite = {
  /** The file or directory being written. */
  path: string;
  /** Whose disk it is: the cache root (fix: free space, prune, KITBUILD_ROOT) or the output (fix: another dest). */
  area: "cache root" | "output";
  /** Bytes the whole write needed, when known. */
  needed?: number;
  /** Bytes written before it failed, when the whole size is not known. */
  written?: number;
};

const NO_SPACE = new Set(["ENOSPC", "EDQUOT", "SQLITE_FULL"]);
const READ_ONLY = new Set(["EROFS", "SQLITE_READONLY"]);
const DENIED = new Set(["EACCES", "EPERM"]);

/** The errno of `e`, or of the error it wraps (a KitError's cause). */
function rootErrno(e: unknown): string | undefined {
  for (let c: unknown = e, depth = 0; c !== undefined && depth < 8; c = (c as { cause?: unknown }).cause, depth++) {
    const code = errnoCode(c);
    if (code && !code.startsWith("E_")) return code;
    if (typeof c !== "object" || c === null) break;
  }
  return undefined;
}

/** Whether `e` is (or wraps) a full-disk error. */
export function isNoSpace(e: unknown): boolean {
  return NO_SPACE.has(rootErrno(e) ?? "");
}

/** Below this many free bytes, SQLite's I/O errors are taken for a full disk (it reports one so when it cannot grow its shared-memory file). */
const NEARLY_FULL = 1 << 20;

/** A full-disk error, or an SQLite I/O error on a filesystem that is (nearly) full. */
function looksFull(e: unknown, path: string): boolean {
  const code = rootErrno(e) ?? "";
  if (NO_SPACE.has(code)) return true;
  return code.startsWith("SQLITE_IOERR") && (freeBytes(path) ?? NEARLY_FULL) < NEARLY_FULL;
}

/**
 * A KitError for a write that failed because the disk is full (E_FS_NO_SPACE), read-only
 * (E_FS_READ_ONLY) or not writable (E_FS_PERMISSION); any other error unchanged. A KitError that
 * already says one of these passes through.
 */
export function writeFailure(e: unknown, site: WriteSite): unknown {
  // Already said, unless this site knows how much was needed (a caller further up can estimate it).
  if (isKitError(e) && e.code.startsWith("E_FS_") && !(e.code === "E_FS_NO_SPACE" && site.needed !== undefined)) return e;
  const code = rootErrno(e);
  if (code === undefined) return e;
  if (isKitError(e) && e.code === "E_FS_NO_SPACE") e = e.cause;
  const where = site.area === "output" ? "the output" : "the cache root";
  if (looksFull(e, site.path)) {
    const free = freeBytes(site.path);
    const need = site.needed !== undefined ? `needed about ${formatBytes(site.needed)}, ` : site.written !== undefined ? `${formatBytes(site.written)} written, ` : "";
    const freeText = free === undefined ? "free space unknown" : `${formatBytes(free)} free`;
    return new KitError("E_FS_NO_SPACE", `no space left on device writing "${site.path}" (${need}${freeText})`, {
      cause: e,
      hint: site.area === "output"
        ? "free space on the output's filesystem, or choose another dest"
        : "free some space on the cache root's filesystem (then kitbuild prune removes unused cache), or set KITBUILD_ROOT to a larger disk",
    });
  }
  if (READ_ONLY.has(code)) {
    return new KitError("E_FS_READ_ONLY", `cannot write "${site.path}": ${where} is on a read-only filesystem`, {
      cause: e,
      hint: site.area === "output" ? "choose a dest on a writable filesystem" : "set KITBUILD_ROOT to a writable directory",
    });
  }
  if (DENIED.has(code)) {
    return new KitError("E_FS_PERMISSION", `cannot write "${site.path}": permission denied`, {
      cause: e,
      hint: site.area === "output" ? "choose a dest you may write to, or fix its permissions" : "set KITBUILD_ROOT to a directory you may write to",
    });
  }
  return e;
}

/** Free bytes (for unprivileged users) on the filesystem of `path` or its nearest existing parent. */
function freeBytes(path: string): number | undefined {
  for (let p = path, i = 0; i < 64; p = dirname(p), i++) {
    try {
      const st = statfsSync(p);
      return st.bavail * st.bsize;
    } catch {
      if (p === dirname(p)) return undefined;
    }
  }
  return undefined;
}

/**
 * For a failure while building (everything written then is in the cache root): a full disk becomes
 * E_FS_NO_SPACE naming the path the error names (else the cache root); anything else unchanged
 * (a permission error then is more likely a read, and says so itself).
 */
export function cacheRootFailure(e: unknown, root: string): unknown {
  if (!looksFull(e, root)) return e;
  return writeFailure(e, { path: errorPath(e) ?? root, area: "cache root" });
}

/** The path a system error names (Node's `path`, or the first of `dest`), looked for through causes. */
function errorPath(e: unknown): string | undefined {
  for (let c: unknown = e, depth = 0; typeof c === "object" && c !== null && depth < 8; c = (c as { cause?: unknown }).cause, depth++) {
    const p = (c as { dest?: unknown; path?: unknown }).dest ?? (c as { path?: unknown }).path;
    if (typeof p === "string") return p;
  }
  return undefined;
}
