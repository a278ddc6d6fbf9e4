// Filesystem trees and entries as tar, deterministically: entries in byte order of their names,
// numeric ids only (no user or group names), no atime or ctime, mtimes clamped to SOURCE_DATE_EPOCH
// when given, hardlinks within one archive kept as links. Used by the tar exporter and layer diffs.
import { readdirSync, readlinkSync } from "node:fs";
import { open } from "node:fs/promises";
import { canceledError } from "../util/abort.ts";
import { undecodableNameError } from "../fs/file-names.ts";
import { closeFd, fgetxattr, flistxattr, lgetxattr, llistxattr, O_NOFOLLOW, O_RDONLY, openFd, openFdAt, readFd } from "../fs/libc.ts";
import {
  closeDirectory, type EntryStat, inodeKey, isBlockDevice, isCharacterDevice, isDirectory, isFIFO, isFile, isSymbolicLink, lstatEntry,
  lstatEntryAt, openDirectory,
} from "../fs/entry-stat.ts";
import type { TarEntryHeader } from "./tar-header.ts";
import { SMALL_FILE, type TarWriter } from "./tar-writer.ts";

export type PackOptions = {
  signal: AbortSignal;
  /** Clamp entry mtimes to this (seconds since the epoch), for reproducible output. */
  sourceDateEpoch?: number;
  onFile?: (size: number) => void;
  /** A directory the tree goes under in the archive (`platform-split`: "linux_amd64"). */
  prefix?: string;
};

/** Hardlinked inodes already written to one archive ("dev:ino" → name). */
export type LinkMap = Map<string, string>;

/** Packs the tree at `root` (its contents, not the directory itself) into `tar`; does not finish it. */
export async function packTree(root: string, tar: TarWriter, opts: PackOptions): Promise<void> {
  const links: LinkMap = new Map();
  const prefix = opts.prefix;
  if (prefix) await packEntry(tar, prefix, root, lstatEntry(root), links, opts);
  // Each directory is held open while its entries are stat'ed and its small files opened in it.
  const walk = async (rel: string): Promise<void> => {
    const dir = rel ? `${root}/${rel}` : root;
    const fd = openDirectory(dir);
    try {
      for (const name of sortedNames(dir)) {
        if (opts.signal.aborted) throw canceledError(opts.signal);
        const child = rel ? `${rel}/${name}` : name;
        const host = `${root}/${child}`;
        let st: EntryStat;
        try {
          st = fd >= 0 ? lstatEntryAt(fd, name, host) : lstatEntry(host);
        } catch (e) {
          throw undecodableNameError(host, e) ?? e;
        }
        await packEntry(tar, prefix ? `${prefix}/${child}` : child, host, st, links, opts, fd);
        if (isDirectory(st)) await walk(child);
      }
    } finally {
      closeDirectory(fd);
    }
  };
  await walk("");
}

/** A directory's entry names in byte order (as Go sorts them), whatever their script. */
export function sortedNames(dir: string): string[] {
  const names = readdirSync(dir);
  // UTF-16 order is UTF-8's byte order until characters from U+D800 on (surrogates sort below
  // U+E000); only names with those need the slower comparison of their bytes.
  if (!names.some((n) => BEYOND_SURROGATES.test(n))) return names.sort();
  return names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

const BEYOND_SURROGATES = /[\uD800-\uFFFF]/;

/**
 * Writes one filesystem entry (`name` relative to the archive root) with its content. A walk that
 * holds the entry's directory open passes it as `dirFd`: a small file is then opened by its name
 * in it rather than by its whole path.
 */
export async function packEntry(tar: TarWriter, name: string, host: string, st: EntryStat, links: LinkMap, opts: PackOptions, dirFd = -1): Promise<void> {
  const mode = st.mode & 0o7777;
  const { uid, gid } = st;
  const [mtimeSec, mtimeNsec] = clampTime(st.mtimeSec, st.mtimeNsec, opts.sourceDateEpoch);
  const dir = isDirectory(st);
  let first: string | undefined;
  if (!dir && st.nlink > 1) {
    first = links.get(inodeKey(st));
    if (first === undefined) links.set(inodeKey(st), name);
  }
  if (first === undefined && isFile(st) && st.size > 0 && st.size <= SMALL_FILE) {
    opts.onFile?.(st.size);
    return packSmallFile(tar, { name, type: "file", mode, uid, gid, mtimeSec, mtimeNsec, size: st.size, xattrs: undefined }, host, dirFd);
  }
  const xattrs = readXattrs(host);
  if (first !== undefined) return tar.entry({ name, type: "link", mode, uid, gid, mtimeSec, mtimeNsec, linkname: first, xattrs });
  if (dir) return tar.entry({ name: `${name}/`, type: "directory", mode, uid, gid, mtimeSec, mtimeNsec, xattrs });
  if (isSymbolicLink(st)) return tar.entry({ name, type: "symlink", mode, uid, gid, mtimeSec, mtimeNsec, linkname: readlinkSync(host), xattrs });
  if (isCharacterDevice(st) || isBlockDevice(st)) {
    const { devmajor, devminor } = splitDevice(st.rdev);
    const type = isCharacterDevice(st) ? "character-device" : "block-device";
    return tar.entry({ name, type, mode, uid, gid, mtimeSec, mtimeNsec, devmajor, devminor, xattrs });
  }
  if (isFIFO(st)) return tar.entry({ name, type: "fifo", mode, uid, gid, mtimeSec, mtimeNsec, xattrs });
  if (!isFile(st)) return; // sockets are not part of a filesystem image
  opts.onFile?.(st.size);
  const h = { name, type: "file" as const, mode, uid, gid, mtimeSec, mtimeNsec, size: st.size, xattrs };
  // An empty file is not opened: its header is all it has.
  if (st.size === 0) return tar.entry(h);
  return tar.entry(h, fileBody(host));
}

/**
 * A file of at most SMALL_FILE bytes, read synchronously, most often straight into the archive's
 * gathered chunk: a read stream, and later a buffer and a generator, per file were most of a
 * layer's time when it held thousands of small files. Its xattrs are read through the open file,
 * and it is opened in `dirFd` when the walk has that open: path lookups were a third of the
 * syscalls' time in a layer of 20,000 small files.
 */
async function packSmallFile(tar: TarWriter, h: TarEntryHeader & { type: "file"; size: number }, host: string, dirFd: number): Promise<void> {
  const flags = O_RDONLY | O_NOFOLLOW;
  const fd = dirFd >= 0 ? openFdAt(dirFd, host.slice(host.lastIndexOf("/") + 1), flags, host) : openFd(host, flags);
  try {
    h.xattrs = readXattrs(host, fd);
    await tar.fileEntry(h, (buffer, offset, length) => readFd(fd, buffer, offset, length, host));
  } finally {
    closeFd(fd);
  }
}

const READ_CHUNK = 1 << 20;

/** A larger file's bytes for the archive, in chunks; TarWriter.entry notices one that grew or shrank. */
async function* fileBody(host: string): AsyncGenerator<Uint8Array> {
  const fh = await open(host, "r");
  try {
    for (;;) {
      // A new buffer each time: the tar stream holds on to what it was given until it is read.
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** An OCI whiteout or opaque marker: an empty root-owned file named `name`. */
export function packMarker(tar: TarWriter, name: string, opts: PackOptions): Promise<void> {
  const mtimeNs = opts.sourceDateEpoch === undefined ? 0n : BigInt(opts.sourceDateEpoch) * 1_000_000_000n;
  return tar.entry({ name, type: "file", mode: 0, uid: 0, gid: 0, mtimeNs });
}

/** The time as seconds and nanoseconds, no later than `epoch` (seconds) when one is given. */
function clampTime(sec: number, nsec: number, epoch: number | undefined): [number, number] {
  if (epoch === undefined || sec < epoch || (sec === epoch && nsec === 0)) return [sec, nsec];
  return [epoch, 0];
}

/** A file's xattrs, or undefined when it has none (most files); read through `fd` when it is open. */
function readXattrs(host: string, fd?: number): Map<string, Buffer> | undefined {
  const names = fd === undefined ? llistxattr(host) : flistxattr(fd, host);
  if (names.length === 0) return undefined;
  const out = new Map<string, Buffer>();
  for (const name of names) {
    // overlayfs' own bookkeeping never belongs to a layer
    if (name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.")) continue;
    const value = fd === undefined ? lgetxattr(host, name) : fgetxattr(fd, name, host);
    if (value !== undefined) out.set(name, value);
  }
  return out;
}

/**
 * glibc's major() and minor() of a device number. It is a Number of up to 44 bits, and JS shifts
 * take 32-bit operands (a shift by 32 is a shift by 0), so the high word is taken apart by division.
 */
export function splitDevice(rdev: number): { devmajor: number; devminor: number } {
  const low = rdev % 2 ** 32;
  const high = Math.floor(rdev / 2 ** 32);
  return {
    devmajor: (((low >>> 8) & 0xfff) | (high & 0xfffff000)) >>> 0,
    devminor: ((low & 0xff) | ((low >>> 12) & 0xfff00) | ((high & 0xfff) << 20)) >>> 0,
  };
}
