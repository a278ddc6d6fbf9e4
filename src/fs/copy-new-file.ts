// Copies a small regular file to a path where nothing is yet, with its metadata, in one sequence of
// calls on two open files: open, read, create (O_EXCL), write, fchown, fchmod, futimens, xattrs,
// close. Every call after the opens works on a file descriptor, so no path is looked up again (each
// lookup through an overlay mount is costly: COPY of 20,000 small files spent most of its time in
// them). Whoever finds something at the destination (EEXIST) falls back to its own replace rules.
import { closeSync, constants, fchmodSync, fchownSync, openSync, readSync, writeSync } from "node:fs";
import { errnoCode } from "../util/errors.ts";
import { fgetxattr, flistxattr, fsetxattr, futimensNs } from "./libc.ts";

/** Files below this size are read whole into one buffer; larger ones are better copied by the kernel. */
export const SMALL_FILE_SIZE = 256 * 1024;

export type NewFileMeta = {
  /** chown to this; undefined leaves the creator's. */
  owner: { uid: number; gid: number } | undefined;
  /** Permission bits, set after the chown (which clears set-id bits). */
  mode: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  /** Copy xattrs (never overlay's own), and whether before the mode (copyTree) or after the times (COPY). */
  xattrs: "before-mode" | "last" | "none";
};

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

// One buffer for every file: the copies run one after the other on the main thread.
let buffer = Buffer.allocUnsafe(SMALL_FILE_SIZE);

/**
 * Copies the regular file `from` (of about `size` bytes) to `to`, which must not exist; false, with
 * nothing created, when something is at `to`. Throws what the calls throw (a partial `to` may stay).
 */
export function copyNewFile(from: string, to: string, size: number, meta: NewFileMeta): boolean {
  const src = openSync(from, READ_FLAGS);
  try {
    const length = readWhole(src, size);
    let dst: number;
    try {
      dst = openSync(to, CREATE_FLAGS, meta.mode & 0o777);
    } catch (e) {
      if (errnoCode(e) === "EEXIST") return false;
      throw e;
    }
    try {
      writeAll(dst, length);
      if (meta.owner) fchownSync(dst, meta.owner.uid, meta.owner.gid);
      if (meta.xattrs === "before-mode") copyXattrsFd(src, dst, from, to);
      fchmodSync(dst, meta.mode);
      futimensNs(dst, meta.atimeNs, meta.mtimeNs, to);
      if (meta.xattrs === "last") copyXattrsFd(src, dst, from, to);
    } finally {
      closeSync(dst);
    }
    return true;
  } finally {
    closeSync(src);
  }
}

/** Reads the open file to its end into `buffer`; a short read at or past `size` is the end (no extra read for the 0). */
function readWhole(fd: number, size: number): number {
  let length = 0;
  for (;;) {
    if (length === buffer.length) buffer = Buffer.concat([buffer, Buffer.allocUnsafe(buffer.length)]);
    const wanted = buffer.length - length;
    const n = readSync(fd, buffer, length, wanted, null);
    length += n;
    if (n === 0 || (n < wanted && length >= size)) return length;
  }
}

function writeAll(fd: number, length: number): void {
  for (let done = 0; done < length; ) done += writeSync(fd, buffer, done, length - done, null);
}

/** Whether an xattr is copied: overlay's own (trusted.overlay.*, user.overlay.*) never are. */
export function isCopiedXattr(name: string): boolean {
  return !name.startsWith("trusted.overlay.") && !name.startsWith("user.overlay.");
}

function copyXattrsFd(src: number, dst: number, from: string, to: string): void {
  for (const name of flistxattr(src, from)) {
    if (!isCopiedXattr(name)) continue;
    const value = fgetxattr(src, name, from);
    if (value === undefined) continue;
    try {
      fsetxattr(dst, name, value, to);
    } catch (e) {
      // security.* and trusted.* may be refused to non-root or by the filesystem; the copy stands.
      if (errnoCode(e) !== "EPERM" && errnoCode(e) !== "EOPNOTSUPP") throw e;
    }
  }
}
