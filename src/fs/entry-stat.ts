// An entry's metadata as the context checksum needs it, from one statx(2) into a reused buffer.
// node:fs's bigint lstat builds an object of BigInts per call: for a context of 20,000 files that
// was a third of a no-op rebuild's walk. Where statx cannot be called, lstat is used instead.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { type BigIntStats, constants, lstatSync } from "node:fs";

export type EntryStat = {
  /** st_mode: the type bits and the permissions. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** The device number of a character or block device (the kernel's encoding, as lstat reports it). */
  rdev: number;
  /** Device, inode, size, mtime and ctime (ns), "dev:ino:size:mtime:ctime": any change to the entry changes it. */
  identity: string;
  /** mtime and ctime in ms (fractional), to tell whether the entry was just changed. */
  mtimeMs: number;
  ctimeMs: number;
  /** Whether both times are whole seconds (a filesystem with coarse times). */
  coarseTimes: boolean;
};

const typeOf = (st: EntryStat) => st.mode & constants.S_IFMT;
export const isDir = (st: EntryStat) => typeOf(st) === constants.S_IFDIR;
export const isFile = (st: EntryStat) => typeOf(st) === constants.S_IFREG;
export const isSymlink = (st: EntryStat) => typeOf(st) === constants.S_IFLNK;
export const isDevice = (st: EntryStat) => typeOf(st) === constants.S_IFCHR || typeOf(st) === constants.S_IFBLK;

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const STATX_BASIC_STATS = 0x7ff;
const TWO_32 = 4294967296;

type Statx = { call: (path: Uint8Array) => number; view: DataView };

let statx: Statx | null | undefined;

function openStatx(): Statx | null {
  try {
    const lib = dlopen("libc.so.6", { statx: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.u32, FFIType.ptr], returns: FFIType.i32 } });
    // An ArrayBuffer of its own: taking `.buffer` of a small typed array after ptr() would move its storage.
    const buf = new ArrayBuffer(256);
    const view = new DataView(buf);
    const out = ptr(buf);
    return { call: (path) => lib.symbols.statx(AT_FDCWD, ptr(path), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, out), view };
  } catch {
    return null;
  }
}

const PATH = new Uint8Array(new ArrayBuffer(8192));
const encoder = new TextEncoder();

/** The entry at `path` (not following a final symlink); throws lstat's own error when there is none. */
export function entryStat(path: string): EntryStat {
  statx ??= openStatx();
  if (statx) {
    const { read, written } = encoder.encodeInto(path, PATH);
    if (read === path.length && written < PATH.length) {
      PATH[written] = 0;
      if (statx.call(PATH) === 0) return fromStatx(statx.view);
    }
  }
  // No statx, a very long name, or an error: lstat reports it as node:fs does.
  return fromStats(lstatSync(path, { bigint: true }));
}

const u32 = (v: DataView, at: number) => v.getUint32(at, true);
/** A u64 field as decimal text (exact also beyond 2^53). */
const u64Text = (v: DataView, at: number) => (u32(v, at + 4) < 0x200000 ? String(u32(v, at) + u32(v, at + 4) * TWO_32) : v.getBigUint64(at, true).toString());
/** The kernel's encoding of a device number (new_encode_dev), as stat(2) reports st_dev and st_rdev. */
const devNumber = (major: number, minor: number) => (minor & 0xff) + major * 256 + (minor - (minor & 0xff)) * 4096;

/** A statx timestamp (i64 seconds at `at`, u32 ns at `at + 8`) in ns as text, and in ms. */
function time(v: DataView, at: number): { ns: string; ms: number; nsec: number } {
  const nsec = u32(v, at + 8);
  const low = u32(v, at);
  if (v.getInt32(at + 4, true) === 0 && low > 0) return { ns: `${low}${String(nsec).padStart(9, "0")}`, ms: low * 1000 + nsec / 1e6, nsec };
  // Before 1970, or after 2106: rare enough for BigInt.
  const sec = v.getBigInt64(at, true);
  return { ns: String(sec * 1_000_000_000n + BigInt(nsec)), ms: Number(sec) * 1000 + nsec / 1e6, nsec };
}

function fromStatx(v: DataView): EntryStat {
  const size = u32(v, 40) + u32(v, 44) * TWO_32;
  const m = time(v, 112);
  const c = time(v, 96);
  return {
    mode: v.getUint16(28, true),
    uid: u32(v, 20),
    gid: u32(v, 24),
    size,
    rdev: devNumber(u32(v, 128), u32(v, 132)),
    identity: `${devNumber(u32(v, 136), u32(v, 140))}:${u64Text(v, 32)}:${size}:${m.ns}:${c.ns}`,
    mtimeMs: m.ms,
    ctimeMs: c.ms,
    coarseTimes: m.nsec === 0 && c.nsec === 0,
  };
}

/** ns as ms, rounded as statx's seconds and nanoseconds are. */
const msOf = (ns: bigint) => Number(ns / 1_000_000_000n) * 1000 + Number(ns % 1_000_000_000n) / 1e6;

export function fromStats(st: BigIntStats): EntryStat {
  return {
    mode: Number(st.mode),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: Number(st.size),
    rdev: Number(st.rdev),
    identity: `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`,
    mtimeMs: msOf(st.mtimeNs),
    ctimeMs: msOf(st.ctimeNs),
    coarseTimes: st.mtimeNs % 1_000_000_000n === 0n && st.ctimeNs % 1_000_000_000n === 0n,
  };
}
