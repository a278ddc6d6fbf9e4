// Mount points under <root>/mounts, named after the owning process so that a later kitbuild can
// tell which ones a crashed process left behind and release them.
import { mkdirSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { MNT_DETACH, mount, umount, unmountOrDetach } from "../fs/libc.ts";
import { errnoCode } from "../util/errors.ts";
import { isProcessAlive } from "../util/process.ts";
import type { Mounted } from "./snapshotter.ts";

let counter = 0;

export function mountpointDir(root: string): string {
  const dir = `${root}/mounts/${process.pid}-${++counter}`;
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Mounts and returns a handle that unmounts and removes the mount point when disposed. */
export function mountAt(root: string, source: string, fstype: string, flags: number, data: string): Mounted {
  const path = mountpointDir(root);
  try {
    mount(source, path, fstype, flags, data);
  } catch (e) {
    rmdirSync(path);
    throw e;
  }
  return releaseOnDispose(path);
}

/** A handle for a mount made at `path` (a mountpointDir): disposing unmounts it and removes `path`. */
export function releaseOnDispose(path: string): Mounted {
  return { path, [Symbol.asyncDispose]: async () => release(path) };
}

/** A Mounted that is just a directory (nothing to unmount). */
export function plainDir(path: string): Mounted {
  return { path, [Symbol.asyncDispose]: async () => {} };
}

function release(path: string): void {
  unmountOrDetach(path);
  rmdirSync(path);
}

/** Unmounts and removes the mount points of processes that no longer exist. */
export function releaseOrphanMounts(root: string): void {
  const dir = `${root}/mounts`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const mounted = new Set(
    readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((l) => l.split(" ")[4])
      .filter((p): p is string => !!p),
  );
  for (const name of names) {
    const pid = Number(name.split("-")[0]);
    if (!Number.isInteger(pid) || isProcessAlive(pid)) continue;
    const path = `${dir}/${name}`;
    if (mounted.has(path)) umount(path, MNT_DETACH);
    try {
      rmdirSync(path);
    } catch (e) {
      if (errnoCode(e) !== "ENOENT") throw e;
    }
  }
}
