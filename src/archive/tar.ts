// Filesystem trees and entries as tar, deterministically: entries in byte order of their names,
// numeric ids only (no user or group names), no atime or ctime, mtimes clamped to SOURCE_DATE_EPOCH
// when given, hardlinks within one archive kept as links. Used by the tar exporter and layer diffs.
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type BigIntStats } from "node:fs";
import { open } from "node:fs/promises";
import { canceledError } from "../util/abort.ts";
import { undecodableNameError } from "../fs/file-names.ts";
import { lgetxattr, llistxattr } from "../fs/libc.ts";
import type { TarWriter } from "./tar-writer.ts";

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
  if (prefix) await packEntry(tar, prefix, root, lstatSync(root, { bigint: true }), links, opts);
  const walk = async (rel: string): Promise<void> => {
    for (const name of sortedNames(rel ? `${root}/${rel}` : root)) {
      if (opts.signal.aborted) throw canceledError(opts.signal);
      const child = rel ? `${rel}/${name}` : name;
      const host = `${root}/${child}`;
      let st: BigIntStats;
      try {
        st = lstatSync(host, { bigint: true });
      } catch (e) {
        throw undecodableNameError(host, e) ?? e;
      }
      await packEntry(tar, prefix ? `${prefix}/${child}` : child, host, st, links, opts);
      if (st.isDirectory()) await walk(child);
    }
  };
  await walk("");
}

/** A directory's entry names in byte order (as Go sorts them), whatever their script. */
export function sortedNames(dir: string): string[] {
  return readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** Writes one filesystem entry (`name` relative to the archive root) with its content. */
export async function packEntry(tar: TarWriter, name: string, host: string, st: BigIntStats, links: LinkMap, opts: PackOptions): Promise<void> {
  const base = { mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), mtimeNs: clampNs(st.mtimeNs, opts.sourceDateEpoch) };
  const xattrs = readXattrs(host);
  const inode = `${st.dev}:${st.ino}`;
  if (!st.isDirectory() && st.nlink > 1n) {
    const first = links.get(inode);
    if (first !== undefined) return tar.entry({ ...base, name, type: "link", linkname: first, xattrs });
    links.set(inode, name);
  }
  if (st.isDirectory()) return tar.entry({ ...base, name: `${name}/`, type: "directory", xattrs });
  if (st.isSymbolicLink()) return tar.entry({ ...base, name, type: "symlink", linkname: readlinkSync(host), xattrs });
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    const rdev = Number(st.rdev);
    const devmajor = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfff);
    const devminor = (rdev & 0xff) | ((rdev >> 12) & ~0xff);
    return tar.entry({ ...base, name, type: st.isCharacterDevice() ? "character-device" : "block-device", devmajor, devminor, xattrs });
  }
  if (st.isFIFO()) return tar.entry({ ...base, name, type: "fifo", xattrs });
  if (!st.isFile()) return; // sockets are not part of a filesystem image
  opts.onFile?.(Number(st.size));
  await tar.entry({ ...base, name, type: "file", size: Number(st.size), xattrs }, fileBody(host, Number(st.size)));
}

/** Files up to this size are read in one synchronous read (from the page cache, most often). */
const SMALL_FILE = 1 << 20;
const READ_CHUNK = 1 << 20;

/**
 * A file's bytes for the archive. Small files are read whole into a buffer of their size: a read
 * stream per file cost a 1 MiB buffer and several event-loop turns each, most of a layer's time
 * when it holds thousands of small files. One byte more than `size` is asked for, so a file that
 * grew is noticed (TarWriter.entry reports it).
 */
async function* fileBody(host: string, size: number): AsyncGenerator<Uint8Array> {
  if (size <= SMALL_FILE) {
    const fd = openSync(host, "r");
    try {
      const buf = Buffer.allocUnsafe(size + 1);
      let got = 0;
      for (let n = -1; n !== 0 && got < buf.length; got += n) n = readSync(fd, buf, got, buf.length - got, null);
      yield buf.subarray(0, got);
    } finally {
      closeSync(fd);
    }
    return;
  }
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

function clampNs(ns: bigint, epoch: number | undefined): bigint {
  if (epoch === undefined) return ns;
  const max = BigInt(epoch) * 1_000_000_000n;
  return ns > max ? max : ns;
}

function readXattrs(host: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of llistxattr(host)) {
    // overlayfs' own bookkeeping never belongs to a layer
    if (name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.")) continue;
    const value = lgetxattr(host, name);
    if (value !== undefined) out.set(name, value);
  }
  return out;
}
