// A watchdog that cleans up right after kitbuild dies, even by SIGKILL (which no handler sees): a
// small detached shell started before the first container, reading a pipe from kitbuild. When the
// pipe ends (kitbuild exited, however it did) it kills the helper processes kitbuild told it about
// (runc, ssh-agent), removes the temporary directories it was told about (an agent's socket
// directory), deletes kitbuild's containers from runc's state and releases its mounts and step
// directories. After a normal exit there is nothing left and it finds nothing. The next
// kitbuild start does the same cleanup in case the watchdog itself was killed.
import { spawn, type ChildProcess } from "node:child_process";
import type { HelperTracker } from "../executor.ts";

// $1 kitbuild's pid, $2 runc, $3 runc's state root, $4 the cache root. Lines read: "pid N" for a
// helper started, "done N" for one that ended (so a pid the system reuses is never killed), "dir P"
// for a temporary directory. A directory kitbuild already removed is not un-told: its name was
// random, so removing it again only finds nothing.
const SCRIPT = `
pids=" "
dirs=""
while read -r word arg; do
  case "$word" in
    pid) pids="$pids$arg ";;
    done) left=" "; for q in $pids; do [ "$q" = "$arg" ] || left="$left$q "; done; pids=$left;;
    dir) dirs="$dirs$arg
";;
  esac
done
killed=""
for p in $pids; do kill -9 "-$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; killed="$killed $p"; done
# A pasta or runc started just before the kill may not have been told yet: their command lines name
# kitbuild's step directories. One grep over every command line, not a process per command line:
# after a normal exit there is none, and the scan's CPU would land on whatever runs next. (Its own
# command line names no cache root, so it is not taken for a helper left behind.)
for c in $(grep -lsaF -e "/executor/kitbuild-$1-" /proc/[0-9]*/cmdline); do
  p=\${c#/proc/}; p=\${p%/cmdline}
  case "$(tr '\\0' ' ' < "$c" 2>/dev/null)" in
    *pasta*" --netns $4/executor/kitbuild-$1-"*|*" run --bundle $4/executor/kitbuild-$1-"*) kill -9 "$p" 2>/dev/null; killed="$killed $p";;
  esac
done
# A runc inside a system call dies when it returns, and may write its container's state first: wait
# for each (2 s at most in all) before looking for that state. A zombie is gone enough.
n=0
for p in $killed; do
  while [ $n -lt 200 ] && [ -e "/proc/$p" ] && ! grep -qF ') Z ' "/proc/$p/stat" 2>/dev/null; do sleep 0.01; n=$((n+1)); done
done
printf '%s' "$dirs" | while IFS= read -r d; do [ -n "$d" ] && rm -rf "$d"; done
# runc keeps a state directory per container: runc is started only for one that is left.
for d in "$3/kitbuild-$1-"*; do
  [ -e "$d" ] && "$2" --root "$3" delete --force "\${d##*/}" >/dev/null 2>&1
done
for m in "$4/executor/kitbuild-$1-"* "$4/mounts/$1-"*; do
  [ -e "$m" ] || continue
  umount -l "$m" 2>/dev/null
  case "$m" in "$4/executor/"*) rm -rf "$m";; *) rmdir "$m" 2>/dev/null;; esac
done
`;

const reapers = new Map<string, ChildProcess>();

/** Starts the watchdog for this process, cache root and runc root (once); tell it about helpers. */
export function ensureReaper(runc: { path: string; root: string }, cacheRoot: string): HelperTracker {
  const key = `${runc.root}\0${cacheRoot}`;
  let child = reapers.get(key);
  if (!child) {
    child = spawn("/bin/sh", ["-c", SCRIPT, "kitbuild-reaper", String(process.pid), runc.path, runc.root, cacheRoot], {
      stdio: ["pipe", "ignore", "ignore"],
      detached: true, // its own process group: a signal to kitbuild's group must not reach it
    });
    child.unref();
    child.on("error", () => reapers.delete(key));
    reapers.set(key, child);
  }
  const stdin = child.stdin;
  return {
    started: (pid) => void stdin?.write(`pid ${pid}\n`),
    ended: (pid) => void stdin?.write(`done ${pid}\n`),
    tempDir: (path) => void stdin?.write(`dir ${path}\n`),
  };
}
