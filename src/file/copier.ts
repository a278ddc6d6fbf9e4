// The recursive part of COPY, with BuildKit's rules (tonistiigi/fsutil's copier): a copied entry
// gets its source's metadata (or the --chown owner, the --chmod mode, a fixed timestamp); existing
// directories below the top are merged into and take the source's metadata, the top one keeps its
// own; a file never replaces a directory, nor a directory a file, unless asked to; hardlinks within
// one source stay hardlinks; symlinks are copied as they are. --parents include patterns create a
// directory only once something below it is copied; --exclude patterns leave paths out. Targets are
// never followed: a symlink in the destination is replaced or refused, never written through.
import { copyFileSync, chmodSync, constants, lchownSync, linkSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync, type BigIntStats } from "node:fs";
import { canceledError } from "../util/abort.ts";
import { copyXattrs, lstatOrUndefined, type Owner } from "../fs/copy-tree.ts";
import { copyNewFile, type NewFileMeta, SMALL_FILE_SIZE } from "../fs/copy-new-file.ts";
import type { NewFileWriters } from "../fs/new-file-writers.ts";
import { undecodableNameError } from "../fs/file-names.ts";
import { KitError } from "../util/errors.ts";
import { lutimesNs, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from "../fs/libc.ts";
import type { PatternMatcher } from "../util/patterns.ts";
import { sortedNames } from "../archive/tar.ts";
import type { ModeChange } from "./chmod.ts";

export type CopierOptions = {
  /** The root of the destination tree, to name paths in messages. */
  destRoot: string;
  /** --chown: every copied entry's owner. */
  owner?: Owner;
  /** Without --chown, entries belong to root (files from the build context) instead of their owner. */
  resetOwner: boolean;
  /** --chmod. */
  mode?: ModeChange;
  /** Every copied entry's atime and mtime (SOURCE_DATE_EPOCH), instead of its source's. */
  timestampNs?: bigint;
  /** --parents: only paths matching these (relative to the source) are copied. */
  include?: PatternMatcher;
  /** --exclude: paths matching these are left out. */
  exclude?: PatternMatcher;
  /** .dockerignore, for paths relative to the source: whether left out, whether still entered. */
  ignored?: (rel: string) => boolean;
  mustEnter?: (rel: string) => boolean;
  /** A copied entry replaces a destination entry of another type instead of failing. */
  alwaysReplace: boolean;
  /** Worker threads that create small files in directories this copy made; without, all is done here. */
  writers?: NewFileWriters;
  signal: AbortSignal;
};

/** Small files copied here before the writers take over: a COPY of a few files starts no thread. */
const COPIED_HERE_FIRST = 256;

type ParentDir = { src: string; dst: string; st: BigIntStats; copied: boolean };

export class Copier {
  private readonly inodes = new Map<string, string>();
  private readonly parents: ParentDir[] = [];
  private count = 0;
  private smallFiles = 0;
  /** Directory times set by finish(), after the writers' files in them exist (in post-order, as copy() sets them). */
  private readonly deferredTimes: Array<{ target: string; st: BigIntStats }> = [];

  constructor(private readonly opts: CopierOptions) {}

  /**
   * Copies `src` (host path, named `rel` within the source, "" at the top) to `target`; `fresh`:
   * `target`'s directory was made by this copy, so nothing is there. Call finish() after.
   */
  async copy(src: string, rel: string, target: string, overwriteTargetMetadata: boolean, fresh = false): Promise<void> {
    if (++this.count % 512 === 0) await yieldTo(this.opts.signal);
    const { include, enter, skipChildren } = this.match(rel);
    if (!include && !enter) return;
    const st = lstatNamed(src);
    if (!include && !st.isDirectory()) return;
    if (include && st.isFile()) {
      // The common case without looking at the destination first: creating it exclusively fails
      // (EEXIST) when something is there, and the replace rules below take over.
      this.createParentDirs(overwriteTargetMetadata);
      if (fresh && (await this.queueNewFile(src, target, st))) return;
      if (this.copyToNewFile(src, target, st)) return;
    }
    const targetSt = lstatOrUndefined(target);
    if (include) {
      if (this.opts.alwaysReplace && targetSt && !(st.isDirectory() && targetSt.isDirectory())) rmSync(target, { recursive: true, force: true });
      this.createParentDirs(overwriteTargetMetadata);
    }
    if (st.isDirectory()) {
      const created = await this.copyDirectory(src, rel, target, st, overwriteTargetMetadata, include, skipChildren);
      if (include && (overwriteTargetMetadata || created)) this.applyInfo(src, target, st);
      else if (include && targetSt) this.applyTimes(target, st);
      return;
    }
    this.emptyFileTarget(target);
    if (!this.copyNonDir(src, target, st)) return;
    this.applyInfo(src, target, st);
  }

  /**
   * Whether `rel` is copied; whether it must be looked at although it is not (something below may
   * be); and, for a directory, whether nothing below it can be copied.
   */
  private match(rel: string): { include: boolean; enter: boolean; skipChildren: boolean } {
    if (rel === "") return { include: true, enter: true, skipChildren: false };
    const { include: inc, exclude, ignored, mustEnter } = this.opts;
    const reincluded = (exclude?.hasExclusions ?? false) || (mustEnter?.(rel) ?? false);
    const excluded = (exclude?.matches(rel) ?? false) || (ignored?.(rel) ?? false);
    const include = !excluded && (inc ? inc.matches(rel) : true);
    return { include, enter: include || inc !== undefined || reincluded, skipChildren: excluded && !reincluded };
  }

  private async copyDirectory(src: string, rel: string, dst: string, st: BigIntStats, overwrite: boolean, include: boolean, skipChildren: boolean): Promise<boolean> {
    const created = include ? this.directoryOnly(dst, st, overwrite) : false;
    this.parents.push({ src, dst, st, copied: include });
    try {
      if (skipChildren) return created;
      for (const name of sortedNames(src)) {
        await this.copy(`${src}/${name}`, rel === "" ? name : `${rel}/${name}`, `${dst}/${name}`, true, created);
      }
    } finally {
      this.parents.pop();
    }
    return created;
  }

  /** Creates the directories delayed by include patterns, now that something below them is copied. */
  private createParentDirs(overwrite: boolean): void {
    for (const p of this.parents) {
      if (p.copied) continue;
      if (this.directoryOnly(p.dst, p.st, overwrite)) this.applyInfo(p.src, p.dst, p.st);
      p.copied = true;
    }
  }

  private directoryOnly(dst: string, st: BigIntStats, overwrite: boolean): boolean {
    const existing = lstatOrUndefined(dst);
    if (!existing) {
      mkdirSync(dst);
      chmodSync(dst, Number(st.mode & 0o7777n));
      return true;
    }
    if (!existing.isDirectory()) {
      throw new KitError("E_COPY_NOT_A_DIRECTORY", `cannot copy to non-directory "${this.shown(dst)}"`, {
        hint: "the destination has a file or symlink where the copy needs a directory",
      });
    }
    if (overwrite) chmodSync(dst, Number(st.mode & 0o7777n));
    return false;
  }

  private emptyFileTarget(target: string): void {
    const st = lstatOrUndefined(target);
    if (!st) return;
    if (st.isDirectory()) {
      throw new KitError("E_COPY_NOT_A_DIRECTORY", `cannot replace directory "${this.shown(target)}" with a file`, {
        hint: "the destination has a directory where the copy writes a file",
      });
    }
    rmSync(target, { force: true });
  }

  /** Sets what waited for the writers: call after the last copy(). */
  async finish(): Promise<void> {
    await this.opts.writers?.drain();
    for (const { target, st } of this.deferredTimes) this.setTimes(target, st);
    this.deferredTimes.length = 0;
  }

  /** A small file (not a link to another) handed to the writers, past the first few; false: copy it here. */
  private async queueNewFile(src: string, target: string, st: BigIntStats): Promise<boolean> {
    const writers = this.opts.writers;
    if (!writers || st.size >= SMALL_FILE_SIZE || st.nlink > 1n || ++this.smallFiles <= COPIED_HERE_FIRST) return false;
    await writers.add(src, target, Number(st.size), this.newFileMeta(st));
    return true;
  }

  /**
   * The common case in one sequence of calls on open files: a small regular file (not a second
   * link to one already copied) where nothing is yet. False when that is not the case.
   */
  private copyToNewFile(src: string, target: string, st: BigIntStats): boolean {
    if (st.size >= SMALL_FILE_SIZE) return false;
    const key = st.nlink > 1n ? `${st.dev}:${st.ino}` : undefined;
    if (key !== undefined && this.inodes.has(key)) return false;
    const copied = copyNewFile(src, target, Number(st.size), this.newFileMeta(st));
    if (copied && key !== undefined) this.inodes.set(key, target);
    return copied;
  }

  private newFileMeta(st: BigIntStats): NewFileMeta {
    const perm = Number(st.mode & 0o7777n);
    const t = this.opts.timestampNs;
    return { owner: this.ownerOf(st), mode: this.opts.mode ? this.opts.mode(perm, false) : perm, atimeNs: t ?? st.atimeNs, mtimeNs: t ?? st.mtimeNs, xattrs: "last" };
  }

  /** Creates a file (or hardlink), symlink, device or fifo; false for sockets, which images do not hold. */
  private copyNonDir(src: string, target: string, st: BigIntStats): boolean {
    const perm = Number(st.mode & 0o7777n);
    if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1n ? this.inodes.get(key) : undefined;
      if (first !== undefined) linkSync(first, target);
      else {
        copyFileSync(src, target, constants.COPYFILE_FICLONE);
        if (st.nlink > 1n) this.inodes.set(key, target);
      }
    } else if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), target);
    else if (st.isCharacterDevice()) mknod(target, S_IFCHR | perm, st.rdev);
    else if (st.isBlockDevice()) mknod(target, S_IFBLK | perm, st.rdev);
    else if (st.isFIFO()) mknod(target, S_IFIFO | perm, 0n);
    else return false;
    return true;
  }

  /** Owner, mode (after the owner: chown clears set-id bits), times and xattrs of a copied entry. */
  private applyInfo(src: string, target: string, st: BigIntStats): void {
    const owner = this.ownerOf(st);
    lchownSync(target, owner.uid, owner.gid);
    if (!st.isSymbolicLink()) {
      const mode = Number(st.mode & 0o7777n);
      chmodSync(target, this.opts.mode ? this.opts.mode(mode, st.isDirectory()) : mode);
    }
    this.applyTimes(target, st);
    copyXattrs(src, target);
  }

  private ownerOf(st: BigIntStats): Owner {
    return this.opts.owner ?? (this.opts.resetOwner ? { uid: 0, gid: 0 } : { uid: Number(st.uid), gid: Number(st.gid) });
  }

  private applyTimes(target: string, st: BigIntStats): void {
    // A writer may still be creating files in this directory, which would change its times.
    if (this.opts.writers && st.isDirectory()) this.deferredTimes.push({ target, st });
    else this.setTimes(target, st);
  }

  private setTimes(target: string, st: BigIntStats): void {
    const t = this.opts.timestampNs;
    lutimesNs(target, t ?? st.atimeNs, t ?? st.mtimeNs);
  }

  private shown(host: string): string {
    return host.slice(this.opts.destRoot.length) || "/";
  }
}

async function yieldTo(signal: AbortSignal): Promise<void> {
  await new Promise((r) => setImmediate(r));
  if (signal.aborted) throw canceledError(signal);
}

/** lstat, with a name that is not UTF-8 reported as such (see fs/file-names.ts). */
function lstatNamed(path: string): BigIntStats {
  try {
    return lstatSync(path, { bigint: true });
  } catch (e) {
    throw undecodableNameError(path, e) ?? e;
  }
}
