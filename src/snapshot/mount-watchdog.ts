// Releases this process's mounts right after it dies, even by SIGKILL (which no handler sees): a
// small detached shell started with the first mount under a cache root, reading a pipe from
// kitbuild. When the pipe ends (kitbuild exited, however it did) it lazily unmounts and removes
// every mount point of this process under <root>/mounts. After a normal exit they are all gone
// already and it finds nothing. The next kitbuild start does the same in case the watchdog died too.
// (The runc watchdog, started with the first RUN, also deletes containers; this one needs no runc.)
import { spawn, type ChildProcess } from "node:child_process";

// $1 the mounts directory, $2 this process's tag ("PID-START"), the prefix of its mount points.
const SCRIPT = `
while read -r _; do :; done
for m in "$1/$2-"*; do
  [ -e "$m" ] || continue
  umount -l "$m" 2>/dev/null
  rmdir "$m" 2>/dev/null
done
`;

const watchdogs = new Map<string, ChildProcess>();

/** Starts the watchdog of `mountsDir` for mount points named `tag-…` (once per directory). */
export function ensureMountWatchdog(mountsDir: string, tag: string): void {
  if (watchdogs.has(mountsDir)) return;
  const child = spawn("/bin/sh", ["-c", SCRIPT, "kitbuild-mount-watchdog", mountsDir, tag], {
    stdio: ["pipe", "ignore", "ignore"],
    detached: true, // its own process group: a signal to kitbuild's group must not reach it
  });
  child.unref();
  // The pipe must not keep kitbuild's event loop alive either.
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  child.on("error", () => watchdogs.delete(mountsDir));
  watchdogs.set(mountsDir, child);
}
