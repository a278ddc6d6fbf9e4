// A network namespace of one step, kept alive by a bind mount on a file in the step's state
// directory (as `ip netns` keeps one under /run/netns), so pasta can be attached to it before runc
// joins it. util-linux's unshare creates it: the Bun process is multithreaded and must not unshare
// itself. If kitbuild is killed, the reaper's lazy unmount of the step directory releases it.
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { MNT_DETACH, umount } from "../../fs/libc.ts";
import { KitError } from "../../util/errors.ts";

export type NetNamespace = { readonly path: string; release(): void };

/** Creates a network namespace bound to `path` (a file created here); release() unmounts and removes it. */
export function createNetNamespace(path: string): NetNamespace {
  const unshare = Bun.which("unshare");
  if (!unshare) {
    throw new KitError("E_RUN_NETWORK", "unshare (util-linux) was not found: a step's network namespace cannot be created", {
      hint: "install util-linux (Debian/Ubuntu: apt-get install util-linux)",
    });
  }
  writeFileSync(path, "");
  const res = spawnSync(unshare, [`--net=${path}`, "true"], { encoding: "utf8", timeout: 10_000 });
  if (res.status !== 0) {
    rmSync(path, { force: true });
    throw new KitError("E_RUN_NETWORK", `cannot create the step's network namespace: ${res.stderr.trim() || `unshare exited with ${res.status}`}`, {
      hint: "kitbuild needs to create network namespaces (as root, or in the user namespace of a rootless build)",
    });
  }
  return {
    path,
    release: () => {
      try {
        umount(path, MNT_DETACH);
      } catch {
        // not mounted (any more)
      }
      rmSync(path, { force: true });
    },
  };
}
