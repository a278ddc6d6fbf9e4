// A network namespace of one step, kept alive by a bind mount on a file in the step's state
// directory (as `ip netns` keeps one under /run/netns), so pasta can be attached to it before runc
// joins it. util-linux's unshare creates it: the Bun process is multithreaded and must not unshare
// itself. If kitbuild is killed, the reaper's lazy unmount of the step directory releases it.
import { rmSync, writeFileSync } from "node:fs";
import { MNT_DETACH, umount } from "../../fs/libc.ts";
import { canceledError } from "../../util/abort.ts";
import { errnoCode, KitError } from "../../util/errors.ts";

export type NetNamespace = { readonly path: string; release(): void };

/**
 * Creates a network namespace bound to `path` (a file created here); release() unmounts and removes
 * it. unshare runs as a child the build awaits: steps starting at the same moment (four stages of
 * a multi-stage build) each waited for the others' unshare when it was run synchronously.
 */
export async function createNetNamespace(path: string, signal: AbortSignal): Promise<NetNamespace> {
  const unshare = Bun.which("unshare");
  if (!unshare) {
    throw new KitError("E_RUN_NETWORK", "unshare (util-linux) was not found: a step's network namespace cannot be created", {
      hint: "install util-linux (Debian/Ubuntu: apt-get install util-linux)",
    });
  }
  writeFileSync(path, "");
  const release = () => releaseNamespace(path);
  try {
    const child = Bun.spawn([unshare, `--net=${path}`, "true"], { stdin: "ignore", stdout: "ignore", stderr: "pipe", timeout: 10_000, signal });
    const [status, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
    if (signal.aborted) throw canceledError(signal);
    if (status !== 0) {
      throw new KitError("E_RUN_NETWORK", `cannot create the step's network namespace: ${stderr.trim() || `unshare exited with ${status}`}`, {
        hint: "kitbuild needs to create network namespaces (as root, or in the user namespace of a rootless build)",
      });
    }
  } catch (e) {
    // An abort may have stopped unshare after it bound the namespace.
    release();
    if (e instanceof KitError) throw e;
    throw new KitError("E_RUN_NETWORK", `cannot create the step's network namespace: ${unshare} could not be run (${errnoCode(e) ?? String(e)})`, {
      hint: "reinstall util-linux (Debian/Ubuntu: apt-get install --reinstall util-linux)",
      cause: e,
    });
  }
  return { path, release };
}

function releaseNamespace(path: string): void {
  try {
    umount(path, MNT_DETACH);
  } catch {
    // not mounted (any more)
  }
  rmSync(path, { force: true });
}
