// The few Linux syscalls Bun and node:fs lack (mount, umount2, mknod, xattrs, futimens), and
// open/read/close for a layer's small files, through bun:ffi. libc is opened on first use so that
// commands which never mount (like --version) stay fast.
import { dlopen, FFIType, ptr, read, type Pointer } from "bun:ffi";
import { getSystemErrorMessage, getSystemErrorName } from "node:util";
import { errnoCode } from "../util/errors.ts";

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM", 2: "ENOENT", 5: "EIO", 13: "EACCES", 16: "EBUSY", 17: "EEXIST", 18: "EXDEV",
  20: "ENOTDIR", 22: "EINVAL", 28: "ENOSPC", 34: "ERANGE", 36: "ENAMETOOLONG", 61: "ENODATA",
  95: "EOPNOTSUPP",
};

export class SyscallError extends Error {
  readonly code: string;
  readonly errno: number;
  constructor(call: string, path: string, errno: number) {
    const code = ERRNO_NAMES[errno] ?? `errno ${errno}`;
    super(`${call} ${path}: ${code}`);
    this.name = "SyscallError";
    this.code = code;
    this.errno = errno;
  }
}

function openLibc() {
  return dlopen("libc.so.6", {
    mount: { args: [FFIType.cstring, FFIType.cstring, FFIType.cstring, FFIType.u64, FFIType.cstring], returns: FFIType.i32 },
    umount2: { args: [FFIType.cstring, FFIType.i32], returns: FFIType.i32 },
    mknod: { args: [FFIType.cstring, FFIType.u32, FFIType.u64], returns: FFIType.i32 },
    lsetxattr: { args: [FFIType.cstring, FFIType.cstring, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    lgetxattr: { args: [FFIType.cstring, FFIType.cstring, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    llistxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
    fsetxattr: { args: [FFIType.i32, FFIType.cstring, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    fgetxattr: { args: [FFIType.i32, FFIType.cstring, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    flistxattr: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    utimensat: { args: [FFIType.i32, FFIType.cstring, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    futimens: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    open: { args: [FFIType.ptr, FFIType.i32, FFIType.u32], returns: FFIType.i32 },
    openat: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.u32], returns: FFIType.i32 },
    read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
}

let libc: ReturnType<typeof openLibc> | undefined;
function sym() {
  libc ??= openLibc();
  return libc.symbols;
}

const cstr = (s: string) => Buffer.from(`${s}\0`);
const errno = () => read.i32(sym().__errno_location() as Pointer, 0);

function check(rc: number | bigint, call: string, path: string): void {
  if (Number(rc) < 0) throw new SyscallError(call, path, errno());
}

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MNT_DETACH = 0x2;

export function mount(source: string, target: string, fstype: string, flags: number, data: string): void {
  check(sym().mount(cstr(source), cstr(target), cstr(fstype), BigInt(flags), cstr(data)), "mount", target);
}

export function umount(target: string, flags = 0): void {
  check(sym().umount2(cstr(target), flags), "umount", target);
}

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

export function mknod(path: string, mode: number, dev: bigint = 0n): void {
  check(sym().mknod(cstr(path), mode, dev), "mknod", path);
}

export function lsetxattr(path: string, name: string, value: Uint8Array): void {
  const buf = value.length === 0 ? Buffer.alloc(1) : Buffer.from(value);
  check(sym().lsetxattr(cstr(path), cstr(name), ptr(buf), BigInt(value.length), 0), "lsetxattr", path);
}

/** The value of one xattr, or undefined when the file has none by that name. */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  return getXattr((buf) => sym().lgetxattr(cstr(path), cstr(name), ptr(buf), BigInt(buf.length)), "lgetxattr", path);
}

/** The value of one xattr of an open file (no path lookup), or undefined; `path` is for errors. */
export function fgetxattr(fd: number, name: string, path: string): Buffer | undefined {
  return getXattr((buf) => sym().fgetxattr(fd, cstr(name), ptr(buf), BigInt(buf.length)), "fgetxattr", path);
}

function getXattr(get: (buf: Buffer) => number | bigint, call: string, path: string): Buffer | undefined {
  let size = 256;
  for (;;) {
    const buf = Buffer.alloc(size);
    const rc = Number(get(buf));
    if (rc >= 0) return buf.subarray(0, rc);
    const e = errno();
    if (e === 61 || e === 95) return undefined;
    if (e !== 34) throw new SyscallError(call, path, e);
    size *= 4;
  }
}

/** Sets one xattr of an open file (no path lookup); `path` is for errors. */
export function fsetxattr(fd: number, name: string, value: Uint8Array, path: string): void {
  const buf = value.length === 0 ? Buffer.alloc(1) : Buffer.from(value);
  check(sym().fsetxattr(fd, cstr(name), ptr(buf), BigInt(value.length), 0), "fsetxattr", path);
}

// One reused buffer: listing xattrs happens for every file of a context, and most have none.
let listBuffer = Buffer.alloc(1024);

// The path of llistxattr, the call made for every entry of a tree walk (a layer's, an export's),
// written into one reused buffer: a Buffer per call cost a third of the call. Its pointer is taken
// at each call, since the runtime may move a buffer's storage.
let pathBuffer = Buffer.alloc(4096);

function reusedPath(path: string): Buffer {
  const need = Buffer.byteLength(path) + 1;
  if (need > pathBuffer.length) pathBuffer = Buffer.alloc(need * 2);
  pathBuffer[pathBuffer.write(path, 0, "utf8")] = 0;
  return pathBuffer;
}

/** Names of a file's xattrs; none where the filesystem has no xattr support. */
export function llistxattr(path: string): string[] {
  return listXattrs((buf) => sym().llistxattr(ptr(reusedPath(path)), ptr(buf), buf.length), "llistxattr", path);
}

/** Names of an open file's xattrs (no path lookup); `path` is for errors. */
export function flistxattr(fd: number, path: string): string[] {
  return listXattrs((buf) => sym().flistxattr(fd, ptr(buf), BigInt(buf.length)), "flistxattr", path);
}

function listXattrs(list: (buf: Buffer) => number | bigint, call: string, path: string): string[] {
  for (;;) {
    const buf = listBuffer;
    const rc = Number(list(buf));
    if (rc === 0) return [];
    if (rc > 0) return buf.subarray(0, rc).toString("latin1").split("\0").filter((n) => n.length > 0);
    const e = errno();
    if (e === 95) return [];
    if (e !== 34) throw new SyscallError(call, path, e);
    listBuffer = Buffer.alloc(buf.length * 4);
  }
}

/**
 * open(2), read(2) and close(2) for a layer's small files: node:fs's wrappers cost about twice the
 * syscalls themselves there (20,000 files: 170 ms against 60 ms, on the thread that makes the layer
 * while the next step waits for it). Failures are thrown as node:fs throws them: code, errno,
 * syscall, path and message. (COPY's new files gained nothing measurable from the same.)
 */
export function openFd(path: string, flags: number, mode = 0): number {
  // C would read the path only up to the NUL: refused as node:fs refuses it.
  if (path.includes("\0")) throw Object.assign(new TypeError(`The argument 'path' must be a string without null bytes. Received '${path}'`), { code: "ERR_INVALID_ARG_VALUE" });
  const fd = sym().open(ptr(reusedPath(path)), flags | O_CLOEXEC, mode);
  if (fd < 0) throw nodeError("open", path);
  return fd;
}

/**
 * openat(2) of `name` in the open directory `dirFd`: one path component to resolve instead of the
 * whole path (a layer walk holds each directory open). `path` is for errors.
 */
export function openFdAt(dirFd: number, name: string, flags: number, path: string): number {
  if (name.includes("\0") || name.includes("/")) throw new TypeError(`openFdAt takes one entry name, not '${name}'`);
  const fd = sym().openat(dirFd, ptr(reusedPath(name)), flags | O_CLOEXEC, 0);
  if (fd < 0) throw nodeError("open", path);
  return fd;
}

/** Reads up to `length` bytes into `buffer` at `offset`; 0 at the end. `path` is for errors. */
export function readFd(fd: number, buffer: Uint8Array, offset: number, length: number, path: string): number {
  if (length === 0) return 0;
  const n = Number(sym().read(fd, ptr(buffer, offset), length));
  if (n < 0) throw nodeError("read", path);
  return n;
}

export function closeFd(fd: number): void {
  sym().close(fd);
}

function nodeError(syscall: string, path: string): Error {
  const negative = -errno();
  const code = getSystemErrorName(negative);
  return Object.assign(new Error(`${code}: ${getSystemErrorMessage(negative)}, ${syscall} '${path}'`), { code, errno: negative, syscall, path });
}

export const O_RDONLY = 0;
export const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;
const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;

/** Sets atime and mtime with nanosecond precision without following a final symlink. */
export function lutimesNs(path: string, atimeNs: bigint, mtimeNs: bigint): void {
  const ts = new BigInt64Array([atimeNs / 1_000_000_000n, atimeNs % 1_000_000_000n, mtimeNs / 1_000_000_000n, mtimeNs % 1_000_000_000n]);
  check(sym().utimensat(AT_FDCWD, cstr(path), ptr(ts), AT_SYMLINK_NOFOLLOW), "utimensat", path);
}

/** Sets atime and mtime of an open file with nanosecond precision (no path lookup); `path` is for errors. */
export function futimensNs(fd: number, atimeNs: bigint, mtimeNs: bigint, path: string): void {
  const ts = new BigInt64Array([atimeNs / 1_000_000_000n, atimeNs % 1_000_000_000n, mtimeNs / 1_000_000_000n, mtimeNs % 1_000_000_000n]);
  check(sym().futimens(fd, ptr(ts)), "futimens", path);
}

/**
 * Unmounts `path`; one still in use (a process inside it) is detached so it goes away once they
 * leave, and one that is not mounted (any more) is fine.
 */
export function unmountOrDetach(path: string): void {
  try {
    umount(path);
  } catch (e) {
    const code = errnoCode(e);
    if (code === "EBUSY") umount(path, MNT_DETACH);
    else if (code !== "EINVAL" && code !== "ENOENT") throw e;
  }
}
