// Copies a directory tree with everything a filesystem image holds: modes, owners, nanosecond
// times, symlinks (verbatim), hardlinks within the copy, devices, fifos and xattrs. Files are
// cloned (reflink) where the filesystem can. The destination is merged into, like a layer.
import {
  chmodSync, constants, copyFileSync, lchownSync, linkSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync,
  symlinkSync, type BigIntStats,
} from "node:fs";
import { canceledError } from "../util/abort.ts";
import { undecodableNameError } from "./file-names.ts";
import { errnoCode } from "../util/errors.ts";
import { lgetxattr, llistxattr, lsetxattr, lutimesNs, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from "./libc.ts";

export type Owner = { uid: number; gid: number };

export type EntryOptions = {
  /** Keep each entry's uid/gid (needs root); otherwise entries belong to whoever copies. */
  preserveOwner: boolean;
  /** Overrides the owner of every entry copied. */
  owner?: Owner;
  /** Overrides the permission bits of every entry copied (not symlinks). */
  mode?: number;
  /** Copy xattrs (overlay's own trusted.overlay.* are never copied). */
  xattrs: boolean;
};

export type CopyTreeOptions = EntryOptions & {
  signal?: AbortSignal;
  /** Called with each regular file's size, for progress. */
  onFile?: (size: number) => void;
  /** Leaves out a path (relative to the source root, "a/b"). */
  exclude?: (rel: string) => boolean;
  /** Whether an excluded directory must still be entered because something below is included. */
  mustEnter?: (rel: string) => boolean;
  /** When the destination root already is a directory, leave its own metadata as it is. */
  keepExistingRoot?: boolean;
};

/** Copies the tree (or single entry) at `src` to `dst`. */
export async function copyTree(src: string, dst: string, opts: CopyTreeOptions): Promise<void> {
  const links = new Map<string, string>();
  const dirs: Array<{ path: string; st: BigIntStats }> = [];
  let count = 0;
  const walk = async (from: string, to: string, rel: string): Promise<void> => {
    let st: BigIntStats;
    try {
      st = lstatSync(from, { bigint: true });
    } catch (e) {
      throw undecodableNameError(from, e) ?? e;
    }
    if (rel !== "" && opts.exclude?.(rel) && !(st.isDirectory() && opts.mustEnter?.(rel))) return;
    const keep = rel === "" && opts.keepExistingRoot === true && lstatOrUndefined(to)?.isDirectory() === true;
    if (!keep) copyEntry(from, to, st, opts, links);
    if (!st.isDirectory()) return;
    if (!keep) dirs.push({ path: to, st });
    for (const name of readdirSync(from).sort()) {
      if (++count % 256 === 0) await yieldTo(opts.signal);
      await walk(`${from}/${name}`, `${to}/${name}`, rel === "" ? name : `${rel}/${name}`);
    }
  };
  await walk(src, dst, "");
  // Directory times last: creating their children changed them.
  for (const d of dirs.reverse()) lutimesNs(d.path, d.st.atimeNs, d.st.mtimeNs);
}

async function yieldTo(signal?: AbortSignal): Promise<void> {
  await new Promise((r) => setImmediate(r));
  if (signal?.aborted) throw canceledError(signal);
}

/** Copies one entry (for a directory only the directory itself), replacing what is at `to`. */
function copyEntry(from: string, to: string, st: BigIntStats, opts: EntryOptions & { onFile?: (n: number) => void }, links: Map<string, string>): void {
  const existing = lstatOrUndefined(to);
  if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) rmSync(to, { force: true });
    if (!existing?.isDirectory()) mkdirSync(to);
  } else {
    if (existing) rmSync(to, { recursive: true, force: true });
    const inodeKey = `${st.dev}:${st.ino}`;
    const linked = st.nlink > 1n ? links.get(inodeKey) : undefined;
    if (linked) {
      linkSync(linked, to);
      return;
    }
    if (!createNonDir(from, to, st)) return;
    if (st.nlink > 1n) links.set(inodeKey, to);
    if (st.isFile()) opts.onFile?.(Number(st.size));
  }
  applyMetadata(from, to, st, opts);
}

function createNonDir(from: string, to: string, st: BigIntStats): boolean {
  const perm = Number(st.mode & 0o7777n);
  if (st.isFile()) copyFileSync(from, to, constants.COPYFILE_FICLONE);
  else if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
  else if (st.isCharacterDevice()) mknod(to, S_IFCHR | perm, st.rdev);
  else if (st.isBlockDevice()) mknod(to, S_IFBLK | perm, st.rdev);
  else if (st.isFIFO()) mknod(to, S_IFIFO | perm, 0n);
  else return false; // sockets are not part of a filesystem image
  return true;
}

/** Owner, xattrs, mode (after chown, which clears setuid bits) and times of one entry. */
function applyMetadata(from: string, to: string, st: BigIntStats, opts: EntryOptions): void {
  const owner = opts.owner ?? (opts.preserveOwner ? { uid: Number(st.uid), gid: Number(st.gid) } : undefined);
  if (owner) lchownSync(to, owner.uid, owner.gid);
  if (opts.xattrs) copyXattrs(from, to);
  if (!st.isSymbolicLink()) chmodSync(to, opts.mode ?? Number(st.mode & 0o7777n));
  lutimesNs(to, st.atimeNs, st.mtimeNs);
}

export function copyXattrs(from: string, to: string): void {
  for (const name of llistxattr(from)) {
    if (name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.")) continue;
    const value = lgetxattr(from, name);
    if (value === undefined) continue;
    try {
      lsetxattr(to, name, value);
    } catch (e) {
      // security.* and trusted.* may be refused to non-root or by the filesystem; the copy stands.
      if (errnoCode(e) !== "EPERM" && errnoCode(e) !== "EOPNOTSUPP") throw e;
    }
  }
}

/** lstat, or undefined when nothing is there (a name that is not UTF-8 is an error, not absent). */
export function lstatOrUndefined(path: string): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true });
  } catch (e) {
    const code = errnoCode(e);
    if (code !== "ENOENT" && code !== "ENOTDIR") throw e;
    const badName = undecodableNameError(path, e);
    if (badName) throw badName;
    return undefined;
  }
}
