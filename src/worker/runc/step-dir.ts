// The state directory of one step: the runc bundle (config.json), the /etc files, secret files and
// ssh sockets. It is a small tmpfs, so a secret (in a file or in the spec's environment) never
// reaches a disk, and it is named after the kitbuild process so a later start can remove what a
// crashed one left.
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { MNT_DETACH, MS_NODEV, MS_NOSUID, mount, umount, unmountOrDetach } from "../../fs/libc.ts";

export type StepDir = AsyncDisposable & { readonly path: string };

const TMPFS_OPTIONS = "mode=711,size=64m";

export function executorDir(root: string): string {
  return `${root}/executor`;
}

/** Creates and mounts `<root>/executor/<id>`; disposing unmounts and removes it. */
export function openStepDir(root: string, id: string): StepDir {
  const path = `${executorDir(root)}/${id}`;
  mkdirSync(path, { recursive: true, mode: 0o711 });
  try {
    mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, TMPFS_OPTIONS);
  } catch (e) {
    rmSync(path, { recursive: true, force: true });
    throw e;
  }
  return { path, [Symbol.asyncDispose]: async () => releaseStepDir(path) };
}

function releaseStepDir(path: string): void {
  unmountOrDetach(path);
  rmSync(path, { recursive: true, force: true });
}

/** The step directories of kitbuild processes that no longer run ("kitbuild-<pid>-<n>"), by name. */
export function orphanStepDirs(root: string, isAlive: (pid: number) => boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(executorDir(root));
  } catch {
    return [];
  }
  return names.filter((name) => {
    const m = /^kitbuild-(\d+)-/.exec(name);
    return m !== null && !isAlive(Number(m[1]));
  });
}

/** Unmounts and removes the step directories `names` (orphanStepDirs' list). */
export function removeOrphanStepDirs(root: string, names: string[]): void {
  if (names.length === 0) return;
  const mounted = new Set(readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4]));
  for (const name of names) {
    const path = `${executorDir(root)}/${name}`;
    // The dead process's watchdog may be unmounting and removing the same directory right now.
    if (mounted.has(path)) {
      try {
        umount(path, MNT_DETACH);
      } catch {
        // already unmounted
      }
    }
    try {
      rmSync(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    } catch {
      // Still busy: a later start tries again.
    }
  }
}
