// Releases this process's mounts right after it dies, even by SIGKILL (which no handler sees): one
// small detached shell per process, started with its first mount point, reading a pipe from
// kitbuild that names each mounts directory in use. When the pipe ends (kitbuild exited, however it
// did) it lazily unmounts and removes every mount point of this process in those directories.
// After a normal exit they are all gone already and it finds nothing. The next kitbuild start does
// the same in case the watchdog died too. (The runc watchdog, started with the first RUN, deletes
// containers as well; this one needs no runc, so a kill before any RUN is covered.)
import { spawn, type ChildProcess } from "node:child_process";

// $1 this process's tag ("PID-START"), the prefix of its mount points. Lines read: a mounts directory.
const SCRIPT = `
dirs=""
while IFS= read -r d; do dirs="$dirs$d
"; done
printf '%s' "$dirs" | while IFS= read -r d; do
  for m in "$d/$1-"*; do
    [ -e "$m" ] || continue
    umount -l "$m" 2>/dev/null
    rmdir "$m" 2>/dev/null
  done
done
`;

let watchdog: ChildProcess | undefined;
const told = new Set<string>();

/** Makes sure the watchdog runs and knows `mountsDir`, whose mount points of this process are named `tag-…`. */
export function ensureMountWatchdog(mountsDir: string, tag: string): void {
  if (told.has(mountsDir)) return;
  if (!watchdog) {
    const child = spawn("/bin/sh", ["-c", SCRIPT, "kitbuild-mount-watchdog", tag], {
      stdio: ["pipe", "ignore", "ignore"],
      detached: true, // its own process group: a signal to kitbuild's group must not reach it
    });
    child.unref();
    // The pipe must not keep kitbuild's event loop alive either.
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    child.on("error", () => {
      watchdog = undefined;
      told.clear();
    });
    watchdog = child;
  }
  watchdog.stdin?.write(`${mountsDir}\n`);
  told.add(mountsDir);
}
