// open, read and close through libc, for a layer's small files: node:fs's wrappers cost about twice
// the syscalls themselves there (a layer of 20,000 files: 170 ms against 60 ms, on the thread that
// makes the layer while the next step waits for it). Failures are thrown as node:fs throws them:
// code, errno, syscall, path and message. (COPY's new files gained nothing measurable from the same.)
import { dlopen, FFIType, ptr, read, type Pointer } from "bun:ffi";
import { getSystemErrorMessage, getSystemErrorName } from "node:util";

function openLibc() {
  return dlopen("libc.so.6", {
    open: { args: [FFIType.ptr, FFIType.i32, FFIType.u32], returns: FFIType.i32 },
    read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
}

// Opened on first use, per thread (a worker has its own).
let libc: ReturnType<typeof openLibc> | undefined;
const sym = () => (libc ??= openLibc()).symbols;

let pathBuffer = Buffer.alloc(4096);

/** `path` NUL-terminated in a reused buffer; its pointer is taken at each call (the runtime may move it). */
function cPath(path: string): Pointer {
  const need = Buffer.byteLength(path) + 1;
  if (need > pathBuffer.length) pathBuffer = Buffer.alloc(need * 2);
  pathBuffer[pathBuffer.write(path, 0, "utf8")] = 0;
  return ptr(pathBuffer);
}

function failed(syscall: string, path: string): Error {
  const errno = -read.i32(sym().__errno_location() as Pointer, 0);
  const code = getSystemErrorName(errno);
  return Object.assign(new Error(`${code}: ${getSystemErrorMessage(errno)}, ${syscall} '${path}'`), { code, errno, syscall, path });
}

export const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;

/** open(2); `mode` counts only with O_CREAT. */
export function openFd(path: string, flags: number, mode = 0): number {
  // C would read the path only up to the NUL: refused as node:fs refuses it.
  if (path.includes("\0")) throw Object.assign(new TypeError(`The argument 'path' must be a string without null bytes. Received '${path}'`), { code: "ERR_INVALID_ARG_VALUE" });
  const fd = sym().open(cPath(path), flags | O_CLOEXEC, mode);
  if (fd < 0) throw failed("open", path);
  return fd;
}

/** Reads up to `length` bytes into `buffer` at `offset`; 0 at the end. `path` is for errors. */
export function readFd(fd: number, buffer: Uint8Array, offset: number, length: number, path: string): number {
  if (length === 0) return 0;
  const n = Number(sym().read(fd, ptr(buffer, offset), length));
  if (n < 0) throw failed("read", path);
  return n;
}

export function closeFd(fd: number): void {
  sym().close(fd);
}
