// Copies a directory tree with everything a filesystem image holds: modes, owners, nanosecond
// times, symlinks (verbatim), hardlinks within the copy, devices, fifos and xattrs. Files are
// cloned (reflink) where the filesystem can. The destination is merged into, like a layer.
import { copyFile } from "node:fs/promises";
import {
  chmodSync, constants, copyFileSync, lchownSync, linkSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync,
  symlinkSync, type BigIntStats,
} from "node:fs";
import { canceledError } from "../util/abort.ts";
import { undecodableNameError } from "./file-names.ts";
import { errnoCode } from "../util/errors.ts";
import { copyNewFile, isCopiedXattr, SMALL_FILE_SIZE } from "./copy-new-file.ts";
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

/** How many files' data is copied at once (in Bun's thread pool), so both cores copy. */
const FILES_AT_ONCE = 4;
/** Files smaller than this are copied synchronously, between the others' background copies. */
const SMALL_FILE = BigInt(SMALL_FILE_SIZE);

/** Copies the tree (or single entry) at `src` to `dst`. */
export async function copyTree(src: string, dst: string, opts: CopyTreeOptions): Promise<void> {
  const links: LinkMap = new Map();
  const dirs: Array<{ path: string; st: BigIntStats }> = [];
  const copies = new FileCopies(FILES_AT_ONCE);
  let count = 0;
  // `fresh`: `to`'s parent was created by this copy, so nothing is there to replace.
  const walk = async (from: string, to: string, rel: string, fresh: boolean): Promise<void> => {
    let st: BigIntStats;
    try {
      st = lstatSync(from, { bigint: true });
    } catch (e) {
      throw undecodableNameError(from, e) ?? e;
    }
    if (rel !== "" && opts.exclude?.(rel) && !(st.isDirectory() && opts.mustEnter?.(rel))) return;
    const keep = rel === "" && opts.keepExistingRoot === true && lstatOrUndefined(to)?.isDirectory() === true;
    const created = keep ? false : await copyEntry(from, to, st, opts, links, copies, fresh);
    if (!st.isDirectory()) return;
    if (!keep) dirs.push({ path: to, st });
    for (const name of readdirSync(from).sort()) {
      if (++count % 256 === 0) await yieldTo(opts.signal);
      await walk(`${from}/${name}`, `${to}/${name}`, rel === "" ? name : `${rel}/${name}`, created);
    }
  };
  try {
    await walk(src, dst, "", false);
  } finally {
    // Nothing may still be writing into the destination when this returns, also on failure.
    await copies.settle();
  }
  await copies.done();
  // Directory times last: creating their children changed them.
  for (const d of dirs.reverse()) lutimesNs(d.path, d.st.atimeNs, d.st.mtimeNs);
}

async function yieldTo(signal?: AbortSignal): Promise<void> {
  await new Promise((r) => setImmediate(r));
  if (signal?.aborted) throw canceledError(signal);
}

/** Hardlinked inodes already copied ("dev:ino" → the copy's path, and its data copy while under way). */
type LinkMap = Map<string, { path: string; copied: Promise<void> }>;

/** File data copies under way, at most `limit` at once; the first failure is kept for `done`. */
class FileCopies {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;
  constructor(private readonly limit: number) {}

  /** Starts `copy` once a slot is free; `copied` settles when the copy does. */
  async add(copy: () => Promise<void>): Promise<{ copied: Promise<void> }> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
    if (this.failure) throw this.failure.error;
    const p: Promise<void> = copy().then(
      () => void this.running.delete(p),
      (e: unknown) => {
        this.running.delete(p);
        this.failure ??= { error: e };
        throw e;
      },
    );
    p.catch(() => {}); // reported through `done` (or the awaiting hardlink)
    this.running.add(p);
    return { copied: p };
  }

  /** Waits for every copy under way, whatever their outcome. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  /** Throws the first copy's failure, if any. */
  async done(): Promise<void> {
    await this.settle();
    if (this.failure) throw this.failure.error;
  }
}

/**
 * Copies one entry (for a directory only the directory itself), replacing what is at `to` unless
 * `fresh` says nothing is there. A regular file's data (and then its metadata) is copied by
 * `copies` in the background. Returns whether a directory was created.
 */
async function copyEntry(
  from: string, to: string, st: BigIntStats, opts: EntryOptions & { onFile?: (n: number) => void }, links: LinkMap, copies: FileCopies, fresh: boolean,
): Promise<boolean> {
  const inodeKey = `${st.dev}:${st.ino}`;
  const secondLink = st.nlink > 1n && links.has(inodeKey);
  // The common case first: a small file where nothing is yet (else EEXIST, and the rules below).
  if (st.isFile() && st.size < SMALL_FILE && !secondLink && copySmallToNew(from, to, st, opts)) {
    if (st.nlink > 1n) links.set(inodeKey, { path: to, copied: Promise.resolve() });
    opts.onFile?.(Number(st.size));
    return false;
  }
  const existing = fresh ? undefined : lstatOrUndefined(to);
  if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) rmSync(to, { force: true });
    if (existing?.isDirectory()) {
      applyMetadata(from, to, st, opts);
      return false;
    }
    mkdirSync(to);
    applyMetadata(from, to, st, opts);
    return true;
  }
  if (existing) rmSync(to, { recursive: true, force: true });
  const linked = st.nlink > 1n ? links.get(inodeKey) : undefined;
  if (linked) {
    await linked.copied;
    linkSync(linked.path, to);
    return false;
  }
  if (st.isFile() && st.size < SMALL_FILE) {
    // A small file is copied at once: a trip through the thread pool costs more than its copy.
    copyFileSync(from, to, constants.COPYFILE_FICLONE);
    if (st.nlink > 1n) links.set(inodeKey, { path: to, copied: Promise.resolve() });
    applyMetadata(from, to, st, opts);
    opts.onFile?.(Number(st.size));
    return false;
  }
  if (st.isFile()) {
    const { copied } = await copies.add(async () => {
      await copyFile(from, to, constants.COPYFILE_FICLONE);
      applyMetadata(from, to, st, opts);
    });
    if (st.nlink > 1n) links.set(inodeKey, { path: to, copied });
    opts.onFile?.(Number(st.size));
    return false;
  }
  if (!createNonDir(from, to, st)) return false;
  if (st.nlink > 1n) links.set(inodeKey, { path: to, copied: Promise.resolve() });
  applyMetadata(from, to, st, opts);
  return false;
}

/** A small file where nothing is yet, by one sequence of calls on open files; false when `to` exists. */
function copySmallToNew(from: string, to: string, st: BigIntStats, opts: EntryOptions): boolean {
  return copyNewFile(from, to, Number(st.size), {
    owner: opts.owner ?? (opts.preserveOwner ? { uid: Number(st.uid), gid: Number(st.gid) } : undefined),
    mode: opts.mode ?? Number(st.mode & 0o7777n),
    atimeNs: st.atimeNs,
    mtimeNs: st.mtimeNs,
    xattrs: opts.xattrs ? "before-mode" : "none",
  });
}

/** Creates a symlink, device or fifo; false for what a filesystem image does not hold (sockets). */
function createNonDir(from: string, to: string, st: BigIntStats): boolean {
  const perm = Number(st.mode & 0o7777n);
  if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
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
    if (!isCopiedXattr(name)) continue;
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
