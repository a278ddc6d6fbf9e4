// Extracts a tar stream into a directory, every entry resolved inside it: absolute names and `..`
// components are refused, parent directories are resolved through symlinks in-root (a symlink
// written by the archive, or one already in the tree from a lower layer, can never lead out), and
// hardlink targets must be entries inside the root. Image layers also carry whiteouts (`.wh.NAME`
// deletes NAME, `.wh..wh..opq` empties its directory of what lower layers put there); archives
// unpacked by ADD do not, so there `.wh.` names are ordinary files.
import { chmodSync, closeSync, fchmodSync, fchownSync, lchownSync, linkSync, mkdirSync, openSync, readdirSync, rmSync, symlinkSync, writeSync } from "node:fs";
import { ExtractParents } from "./extract-parents.ts";
import { posix } from "node:path";
import { canceledError } from "../util/abort.ts";
import { lstatOrUndefined, type Owner } from "../fs/copy-tree.ts";
import { errnoCode } from "../util/errors.ts";
import { writeFailure } from "../util/write-errors.ts";
import { inRootPath } from "../fs/fs-safe.ts";
import { futimensNs, lsetxattr, lutimesNs, makedev, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from "../fs/libc.ts";
import { SpaceGuard } from "./space-guard.ts";
import { readTar, type TarHeader } from "./tar-reader.ts";
import { cleanEntryName, invalid, unsafe } from "./tar-entry-names.ts";

export const WHITEOUT_PREFIX = ".wh.";
export const OPAQUE_MARKER = ".wh..wh..opq";

export type ExtractOptions = {
  /** Interpret `.wh.` entries as deletions (image layers). */
  whiteouts: boolean;
  /** Keep each entry's uid/gid (needs root); otherwise entries belong to whoever extracts. */
  preserveOwner: boolean;
  /** Give every entry this owner instead (ADD --chown). */
  owner?: Owner;
  /**
   * Absolute entry names: refused (image layers), or taken as relative to the root, as docker's
   * ADD does (an archive made with `tar -P`). ".." components are refused either way.
   */
  absoluteNames?: "refuse" | "strip";
  /** What is extracted, for messages: `layer "sha256:…"`, `archive "/app.tar.gz"`. */
  what: string;
  signal: AbortSignal;
};

/** Extracts the (uncompressed) tar `chunks` into `root`. */
export async function extractTar(chunks: AsyncIterable<Uint8Array>, root: string, opts: ExtractOptions): Promise<void> {
  const writer = new EntryWriter(root, opts);
  for await (const { header, body } of readTar(chunks)) {
    if (opts.signal.aborted) throw canceledError(opts.signal);
    await writer.entry(header, body);
  }
  writer.finish();
}

class EntryWriter {
  private readonly dirs: Array<{ path: string; header: TarHeader }> = [];
  /** Paths written by this archive: an opaque marker must not delete them. */
  private readonly written = new Set<string>();
  private readonly parents: ExtractParents;
  private readonly space: SpaceGuard;

  constructor(
    private readonly root: string,
    private readonly opts: ExtractOptions,
  ) {
    this.space = new SpaceGuard(root, opts.what);
    this.parents = new ExtractParents(root, (path) => this.remove(path));
  }

  async entry(header: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const name = cleanEntryName(this.relative(header.name));
    if (name === undefined) return; // the root itself: its metadata is the destination's
    const base = posix.basename(name);
    const parent = this.parents.resolve(posix.dirname(name));
    if (this.opts.whiteouts && base.startsWith(WHITEOUT_PREFIX)) return this.whiteout(parent, base, header.name);
    this.space.addFile();
    this.parents.ensure(parent);
    const rel = parent === "/" ? `/${base}` : `${parent}/${base}`;
    const path = this.root + rel;
    this.written.add(rel);
    switch (header.type) {
      case "directory":
        return this.directory(path, rel, header);
      case "file":
        return this.file(path, header, body);
      case "symlink":
        this.createOrReplace(path, () => symlinkSync(header.linkname, path));
        this.parents.symlinkMade();
        break;
      case "link":
        return this.hardlink(path, header);
      case "character-device":
      case "block-device":
      case "fifo":
        this.special(path, header);
        break;
      default:
        if (header.typeflag === "S") throw invalid(`entry "${header.name}" is a GNU sparse file, which kitbuild does not extract`);
        return; // vendor-specific entries carry nothing for the filesystem
    }
    this.metadata(path, header);
  }

  private relative(name: string): string {
    return this.opts.absoluteNames === "strip" ? name.replace(/^\/+/, "") : name;
  }

  private whiteout(parent: string, base: string, raw: string): void {
    this.parents.resolvedOnly();
    if (base === OPAQUE_MARKER) return this.clearDirExceptWritten(parent);
    const target = base.slice(WHITEOUT_PREFIX.length);
    if (target === "" || target === "." || target === "..") throw unsafe(raw, "a whiteout that names no file");
    if (target.startsWith(WHITEOUT_PREFIX)) return; // aufs metadata (.wh..wh.plnk), not a deletion
    this.remove(`${this.hostDir(parent)}/${target}`);
  }

  private clearDirExceptWritten(parent: string): void {
    for (const child of safeReaddir(this.hostDir(parent))) {
      const rel = `${parent === "/" ? "" : parent}/${child}`;
      if (!this.written.has(rel)) this.remove(`${this.hostDir(parent)}/${child}`);
    }
  }

  private hostDir(parent: string): string {
    return parent === "/" ? this.root : this.root + parent;
  }

  private remove(path: string): void {
    rmSync(path, { recursive: true, force: true });
    this.parents.forget();
  }

  /**
   * Runs `create` (a call that fails with EEXIST when something is at `path`), replacing what a lower
   * layer or an earlier entry left there. Trying first saves an lstat per entry in the usual case.
   */
  private createOrReplace<T>(path: string, create: () => T): T {
    // A name that was not UTF-8 in the archive: replace() says so when a lower layer has it too.
    if (path.includes("\uFFFD")) this.replace(path);
    try {
      return create();
    } catch (e) {
      if (errnoCode(e) !== "EEXIST") throw e;
    }
    this.remove(path);
    return create();
  }

  private replace(path: string): void {
    if (lstatOrUndefined(path)) this.remove(path);
  }

  private directory(path: string, rel: string, header: TarHeader): void {
    if (!this.parents.isDirectory(rel)) {
      try {
        mkdirSync(path, { mode: 0o700 });
      } catch (e) {
        if (errnoCode(e) !== "EEXIST") throw e;
        if (!lstatOrUndefined(path)?.isDirectory()) {
          this.remove(path);
          mkdirSync(path, { mode: 0o700 });
        }
      }
      this.parents.madeDirectory(rel);
    }
    this.dirs.push({ path, header });
    this.ownerAndXattrs(path, header);
  }

  private async file(path: string, header: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    // Synchronous calls: a layer has many small files, and a thread pool round trip per call
    // costs more than the call itself. Owner, mode and times go through the open descriptor (no
    // path lookups), in the order of metadata(): the owner first, since chown clears setuid bits.
    const fd = this.createOrReplace(path, () => openSync(path, "wx", 0o600));
    try {
      try {
        for await (const chunk of body) {
          this.space.addBytes(chunk.length);
          writeAll(fd, chunk);
        }
      } catch (e) {
        // Extraction writes into a snapshot: a full disk is the cache root's, named by the file.
        throw writeFailure(e, { path, area: "cache root" });
      }
      const owner = this.owner(header);
      if (owner) fchownSync(fd, owner.uid, owner.gid);
      this.xattrs(path, header);
      fchmodSync(fd, header.mode & 0o7777);
      futimensNs(fd, header.mtimeNs, header.mtimeNs, path);
    } finally {
      closeSync(fd);
    }
  }

  private hardlink(path: string, header: TarHeader): void {
    const targetName = cleanEntryName(this.relative(header.linkname));
    if (targetName === undefined) throw unsafe(header.name, `a hardlink to the root directory`);
    const target = this.root + inRootPath(this.root, targetName, false);
    const st = lstatOrUndefined(target);
    if (!st || st.isDirectory()) {
      throw invalid(`hardlink "${header.name}" points at "${header.linkname}", which is not a file extracted before it`);
    }
    if (target === path) return;
    this.createOrReplace(path, () => linkSync(target, path));
  }

  private special(path: string, header: TarHeader): void {
    this.replace(path);
    const perm = header.mode & 0o7777;
    if (header.type === "fifo") mknod(path, S_IFIFO | perm, 0n);
    else mknod(path, (header.type === "block-device" ? S_IFBLK : S_IFCHR) | perm, makedev(header.devmajor, header.devminor));
  }

  private owner(header: TarHeader): Owner | undefined {
    return this.opts.owner ?? (this.opts.preserveOwner ? { uid: header.uid, gid: header.gid } : undefined);
  }

  private ownerAndXattrs(path: string, header: TarHeader): void {
    const owner = this.owner(header);
    if (owner) lchownSync(path, owner.uid, owner.gid);
    this.xattrs(path, header);
  }

  private xattrs(path: string, header: TarHeader): void {
    for (const [name, value] of header.xattrs) {
      try {
        lsetxattr(path, name, value);
      } catch (e) {
        // trusted.* and security.* may be refused by the filesystem; the entry itself stands.
        if (errnoCode(e) !== "EPERM" && errnoCode(e) !== "EOPNOTSUPP") throw e;
      }
    }
  }

  private metadata(path: string, header: TarHeader): void {
    this.ownerAndXattrs(path, header);
    if (header.type !== "symlink") chmodSync(path, header.mode & 0o7777);
    lutimesNs(path, header.mtimeNs, header.mtimeNs);
  }

  /** Directory modes and times last, since adding entries changes them. */
  finish(): void {
    for (const { path, header } of this.dirs.reverse()) {
      chmodSync(path, header.mode & 0o7777);
      lutimesNs(path, header.mtimeNs, header.mtimeNs);
    }
  }
}

function writeAll(fd: number, chunk: Buffer): void {
  for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}
