// Mount points under <root>/mounts, named after the owning process ("PID-START-N", START being its
// start time, so a reused pid is told apart) so that a later kitbuild can tell which ones a crashed
// process left behind and release them. The first mount point starts a watchdog that releases them
// as soon as this process dies.
import { mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { MNT_DETACH, mount, umount, unmountOrDetach } from "../fs/libc.ts";
import { isProcessAlive } from "../util/process.ts";
import { isSameProcessAlive, ownProcessTag } from "../util/process-start.ts";
import { ensureMountWatchdog } from "./mount-watchdog.ts";
import type { Mounted } from "./snapshotter.ts";

let counter = 0;

export function mountpointDir(root: string): string {
  const tag = ownProcessTag();
  ensureMountWatchdog(`${root}/mounts`, tag);
  const dir = `${root}/mounts/${tag}-${++counter}`;
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Whether the process that named a mount point "PID-START-N" (or, before start times, "PID-N") still runs. */
function ownerAlive(name: string): boolean {
  const parts = name.split("-");
  const pid = Number(parts[0]);
  if (!Number.isInteger(pid) || pid <= 0) return true; // not ours to judge
  return parts.length >= 3 ? isSameProcessAlive(pid, parts[1] as string) : isProcessAlive(pid);
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

/**
 * Unmounts and removes the mount points of processes that no longer exist, and their temp files
 * under <root>/tmp (named "…-PID": a probe or a record being written when the process died).
 */
export function releaseOrphanMounts(root: string): void {
  const dir = `${root}/mounts`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  releaseDeadMountPoints(dir, names);
  // After the mounts: a probe's overlay may stack the directories removed here.
  removeOrphanTemp(`${root}/tmp`);
}

function releaseDeadMountPoints(dir: string, names: readonly string[]): void {
  const dead = names.filter((name) => !ownerAlive(name));
  // The mount table is read only for them: on a host with many mounts it is long, and every build
  // starts here.
  if (dead.length === 0) return;
  const mounted = mountPoints();
  for (const name of dead) {
    const path = `${dir}/${name}`;
    // Mounted more than once (a mount stacked on it): detach until none is left.
    for (let n = mounted.get(path) ?? 0; n > 0; n--) {
      try {
        umount(path, MNT_DETACH);
      } catch {
        break; // the watchdog (or another kitbuild's sweep) got there first
      }
    }
    try {
      rmdirSync(path);
    } catch {
      // Gone (the watchdog), or still busy while the dead process's container dies: a later start
      // tries again, and this build has no business failing over it.
    }
  }
}

/** Mount points in this mount namespace, with how many mounts each has. */
function mountPoints(): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const p = line.split(" ")[4];
    if (p) out.set(p, (out.get(p) ?? 0) + 1);
  }
  return out;
}

function removeOrphanTemp(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/-(\d+)$/.exec(name)?.[1]);
    // Retried: the dead process's watchdog may be removing the same tree at the same moment.
    if (Number.isInteger(pid) && pid > 0 && !isProcessAlive(pid)) rmSync(`${dir}/${name}`, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
  }
}
