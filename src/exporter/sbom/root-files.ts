// Reading an image's root filesystem without leaving it: paths are resolved in-root (symlinks,
// absolute or relative, are followed inside the root, never out of it), the file itself is opened
// with O_NOFOLLOW and read only when it is a regular file under a size limit. Anything unreadable
// reads as absent: a scanner reports what it can read and never fails a build over a broken file.
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, type Dirent } from "node:fs";
import { resolveInRoot } from "../../fs/fs-safe.ts";

/** The largest package database read whole (an rpmdb.sqlite of a full distribution is tens of MB). */
export const MAX_DATABASE_BYTES = 512 * 1024 * 1024;

export class RootFiles {
  constructor(readonly root: string) {}

  /** The host path of `path` resolved inside the root, or undefined when the resolution fails (a symlink loop). */
  hostPath(path: string): string | undefined {
    try {
      return resolveInRoot(this.root, path, true);
    } catch {
      return undefined;
    }
  }

  /** The bytes of a regular file at `path` (in-root), or undefined. */
  readBytes(path: string, maxBytes = MAX_DATABASE_BYTES): Uint8Array | undefined {
    const host = this.hostPath(path);
    return host === undefined ? undefined : readHostFile(host, maxBytes);
  }

  readText(path: string, maxBytes = MAX_DATABASE_BYTES): string | undefined {
    const bytes = this.readBytes(path, maxBytes);
    return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
  }

  /** The entries of a directory at `path` (in-root), sorted by name, or [] when it is not a readable directory. */
  list(path: string): Dirent[] {
    const host = this.hostPath(path);
    if (host === undefined) return [];
    try {
      return readdirSync(host, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch {
      return [];
    }
  }
}

/**
 * Reads a host file that must not be a symlink (O_NOFOLLOW) and must be a regular file of at most
 * `maxBytes`; undefined otherwise. Callers pass only paths already resolved inside the root.
 */
export function readHostFile(host: string, maxBytes: number): Uint8Array | undefined {
  const fd = openRegularFile(host);
  if (fd === undefined) return undefined;
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > maxBytes) return undefined;
    return readFd(fd, st.size);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens a host path for reading only when it is a regular file: a device node in an image is never
 * opened (opening one runs its driver), a FIFO never blocks (O_NONBLOCK), a symlink is never followed.
 */
export function openRegularFile(host: string): number | undefined {
  try {
    if (!lstatSync(host).isFile()) return undefined;
    return openSync(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
}

function readFd(fd: number, size: number): Uint8Array {
  const buf = new Uint8Array(size);
  let done = 0;
  while (done < size) {
    const n = readSync(fd, buf, done, size - done, done);
    if (n === 0) break;
    done += n;
  }
  return done === size ? buf : buf.subarray(0, done);
}

/** Reads up to `length` bytes at `offset` of an open file (fewer at its end). */
export function readAt(fd: number, offset: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, offset + done);
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}
