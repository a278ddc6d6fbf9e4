// What archives and context checksums need to know of a filesystem entry, as plain numbers. Taken
// with statx(2) into one reused buffer through bun:ffi: node's lstatSync with bigint (the only way
// to its nanosecond times) built an object of BigInts per entry and took twice as long, most of a
// layer's walk of 20,000 small files. Where statx is missing (an old kernel or libc, a seccomp
// filter) lstatSync does it.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { constants, lstatSync, type BigIntStats } from "node:fs";
import { closeFd, openFd } from "./libc.ts";

export type EntryStat = {
  /** File type and permission bits (st_mode). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  /** Modification time: whole seconds (floor) and nanoseconds in [0, 1e9), as the kernel keeps them. */
  mtimeSec: number;
  mtimeNsec: number;
  /** Change time, likewise: it moves with any change to the entry, its content or its metadata. */
  ctimeSec: number;
  ctimeNsec: number;
  /** The device number of a device node, encoded as glibc's makedev does (0 for other entries). */
  rdev: number;
  /**
   * The device of the filesystem (st_dev as the kernel reports it) and the inode number there: a
   * number, a bigint only past 2^53 (a string made per entry and read back as a number took 4 ms of
   * a 20,000-file walk).
   */
  dev: number;
  ino: number | bigint;
  /** The 512-byte blocks allocated to the entry (st_blocks). */
  blocks: number;
};

/** The same for every hardlink of one inode. */
export const inodeKey = (st: EntryStat) => `${st.dev}:${st.ino}`;

const S_IFMT = 0o170000;
export const isDirectory = (st: EntryStat) => (st.mode & S_IFMT) === 0o040000;
export const isFile = (st: EntryStat) => (st.mode & S_IFMT) === 0o100000;
export const isSymbolicLink = (st: EntryStat) => (st.mode & S_IFMT) === 0o120000;
export const isCharacterDevice = (st: EntryStat) => (st.mode & S_IFMT) === 0o020000;
export const isBlockDevice = (st: EntryStat) => (st.mode & S_IFMT) === 0o060000;
export const isFIFO = (st: EntryStat) => (st.mode & S_IFMT) === 0o010000;

/** The entry at `path`, not following a final symlink; throws as lstatSync does. */
export function lstatEntry(path: string): EntryStat {
  if (opened === null) statx = opened = openStatx();
  const st = statx?.(path, AT_FDCWD, path);
  return st ?? entryStatOf(lstatSync(path, { bigint: true }));
}

/**
 * The same for the entry `name` of the directory open as `dirFd`, whose full path is `path`: the
 * kernel then resolves one name instead of every component of the path (a walk's 20,000 calls took
 * 41 ms instead of 50). Failures are reported, and fallbacks taken, by `path`. Given `reuse`, the
 * facts are written into it and it is returned (statx's usual case), for a walk that keeps no
 * entry's facts past the next call: one object per entry was 3 MB of a 20,000-file walk's memory.
 */
export function lstatEntryAt(dirFd: number, name: string, path: string, reuse?: EntryStat): EntryStat {
  if (opened === null) statx = opened = openStatx();
  const st = statx?.(path, dirFd, name, reuse);
  return st ?? entryStatOf(lstatSync(path, { bigint: true }));
}

/** An EntryStat to hand lstatEntryAt as `reuse`. */
export function scratchEntryStat(): EntryStat {
  return { mode: 0, uid: 0, gid: 0, size: 0, nlink: 0, mtimeSec: 0, mtimeNsec: 0, ctimeSec: 0, ctimeNsec: 0, rdev: 0, dev: 0, ino: 0, blocks: 0 };
}

/**
 * A descriptor of directory `path` for lstatEntryAt, or -1 where it cannot be opened (its entries
 * are then stat'ed by path). A final symlink is not followed: a directory swapped for a link after
 * the walk stat'ed it is not entered through the link. Closed with closeDirectory.
 */
export function openDirectory(path: string): number {
  try {
    return openFd(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch {
    return -1;
  }
}

export function closeDirectory(fd: number): void {
  if (fd >= 0) closeFd(fd);
}

/** The same facts from node's stat. */
export function entryStatOf(st: BigIntStats): EntryStat {
  const [mtimeSec, mtimeNsec] = secondsOf(st.mtimeNs);
  const [ctimeSec, ctimeNsec] = secondsOf(st.ctimeNs);
  const dev = st.dev;
  const device = st.isCharacterDevice() || st.isBlockDevice();
  return {
    mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), size: Number(st.size), nlink: Number(st.nlink),
    mtimeSec, mtimeNsec, ctimeSec, ctimeNsec, rdev: device ? Number(st.rdev) : 0,
    dev: Number(dev), ino: st.ino <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(st.ino) : st.ino, blocks: Number(st.blocks),
  };
}

/** ns since the epoch as whole seconds (floor) and nanoseconds in [0, 1e9). */
function secondsOf(ns: bigint): [number, number] {
  let sec = ns / NS;
  let nsec = ns - sec * NS;
  if (nsec < 0n) {
    nsec += NS;
    sec -= 1n;
  }
  return [Number(sec), Number(nsec)];
}

/** For tests: lstatEntry with statx (where libc has it) or with lstatSync, as where statx fails. */
export function useStatx(on: boolean): void {
  opened ??= openStatx();
  statx = on ? opened : undefined;
}

const NS = 1_000_000_000n;
const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const STATX_BASIC_STATS = 0x7ff;
const PATH_ROOM = 8192;

// libc is opened on first use (commands that never walk a tree start faster); null: not yet.
let opened: StatxCall | undefined | null = null;
let statx: StatxCall | undefined;

/** statx of `name` relative to `dirFd` (AT_FDCWD: `name` is `path`), into `reuse` when given. */
type StatxCall = (path: string, dirFd: number, name: string, reuse?: EntryStat) => EntryStat | undefined;

/** statx through libc, or undefined where libc has none. */
function openStatx(): StatxCall | undefined {
  let call: (dirfd: number, path: number, flags: number, mask: number, buf: number) => number;
  try {
    const lib = dlopen("libc.so.6", {
      statx: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.u32, FFIType.ptr], returns: FFIType.i32 },
    });
    call = lib.symbols.statx as unknown as typeof call;
  } catch {
    return undefined;
  }
  // Views of ArrayBuffers of their own, whose storage never moves, so their pointers are taken once
  // (a small typed array made by length may have its storage moved by the runtime: a pointer to one
  // kept across calls was seen to go stale after a garbage collection, the kernel writing elsewhere).
  const pathBuf = Buffer.from(new ArrayBuffer(PATH_ROOM));
  const out = new Uint32Array(new ArrayBuffer(256)); // struct statx
  const pathAt = ptr(pathBuf);
  const outAt = ptr(out);
  // The path, NUL-terminated, in pathBuf; false when it may not have fitted (a longer one is cut
  // short, within 4 bytes of the end) or has a NUL in it (the fallbacks then say what is wrong
  // with it). Buffer's write returns a number: TextEncoder's encodeInto made an object per entry.
  const setPath = (path: string) => {
    const written = pathBuf.write(path);
    if (written > PATH_ROOM - 5 || path.includes("\0")) return false;
    pathBuf[written] = 0;
    return true;
  };
  return (path, dirFd, name, reuse) => {
    if (!setPath(name)) return undefined;
    if (call(dirFd, pathAt, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, outAt) !== 0) return failed(path);
    return reuse ? intoEntryStat(out, reuse) : fromStatx(out);
  };
}

/**
 * statx failed: lstatSync throws the error node would have; if it succeeds instead, statx does not
 * work here (ENOSYS, a seccomp filter) and is not tried again.
 */
function failed(path: string): EntryStat {
  const st = entryStatOf(lstatSync(path, { bigint: true }));
  statx = undefined;
  return st;
}

/** struct statx (little-endian: the only byte order Bun runs on) as an EntryStat. */
function fromStatx(x: Uint32Array): EntryStat {
  return intoEntryStat(x, scratchEntryStat());
}

function intoEntryStat(x: Uint32Array, st: EntryStat): EntryStat {
  const mode = (x[7] as number) & 0xffff;
  const device = (mode & S_IFMT) === 0o020000 || (mode & S_IFMT) === 0o060000;
  const inoHigh = x[9] as number;
  st.nlink = x[4] as number;
  st.uid = x[5] as number;
  st.gid = x[6] as number;
  st.mode = mode;
  st.size = (x[11] as number) * 2 ** 32 + (x[10] as number);
  st.mtimeSec = ((x[29] as number) | 0) * 2 ** 32 + (x[28] as number);
  st.mtimeNsec = x[30] as number;
  st.ctimeSec = ((x[25] as number) | 0) * 2 ** 32 + (x[24] as number);
  st.ctimeNsec = x[26] as number;
  st.rdev = device ? makedev(x[32] as number, x[33] as number) : 0;
  st.dev = deviceNumber(x[34] as number, x[35] as number);
  st.ino = inoHigh < 0x200000 ? inoHigh * 2 ** 32 + (x[8] as number) : (BigInt(inoHigh) << 32n) | BigInt(x[8] as number);
  st.blocks = (x[13] as number) * 2 ** 32 + (x[12] as number);
  return st;
}

/** st_dev from statx's major and minor, without BigInts (Linux's majors are below 4096, minors below 2^20). */
function deviceNumber(major: number, minor: number): number {
  return (major & 0xfff) * 256 + (minor & 0xff) + (minor - (minor & 0xff)) * 4096 + (major - (major & 0xfff)) * 2 ** 32;
}

/** glibc's makedev, as a number (exact for the majors and minors Linux hands out). */
function makedev(major: number, minor: number): number {
  return Number(((BigInt(major) & 0xfffff000n) << 32n) | (BigInt(major & 0xfff) << 8n) | ((BigInt(minor) & 0xffffff00n) << 12n) | BigInt(minor & 0xff));
}
