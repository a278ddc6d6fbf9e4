// Mount points created only for a step (the /etc files and mount targets that did not exist in the
// image) must leave no trace in its layer, as in BuildKit. We note which were missing before the
// step and remove them after it if they are still empty, restoring their parent's times.
import { lstatSync, readdirSync, rmSync } from "node:fs";
import { posix } from "node:path";
import { lstatOrUndefined } from "../../fs/copy-tree.ts";
import { inRootPath } from "../../fs/fs-safe.ts";
import { lutimesNs } from "../../fs/libc.ts";

export const ETC_MOUNT_TARGETS = ["/etc/resolv.conf", "/etc/hosts", "/etc/hostname"];

/** Records which mount targets (and their missing parents) do not exist yet; returns the cleanup. */
export function recordMountStubs(rootfs: string, targets: readonly string[]): () => void {
  const missing: string[] = [];
  for (const target of targets) {
    let rel = inRootPath(rootfs, target, false);
    while (rel !== "/" && !lstatOrUndefined(rootfs + rel)) {
      if (!missing.includes(rel)) missing.push(rel);
      rel = posix.dirname(rel);
    }
  }
  // Deepest first, so a stub directory is empty by the time it is considered.
  missing.sort((a, b) => b.length - a.length);
  return () => {
    for (const rel of missing) removeIfEmptyStub(rootfs, rel);
  };
}

function removeIfEmptyStub(rootfs: string, rel: string): void {
  const host = rootfs + rel;
  const st = lstatOrUndefined(host);
  if (!st) return;
  if (st.isDirectory() ? readdirSync(host).length > 0 : st.size > 0n) return;
  const parent = rootfs + posix.dirname(rel);
  const parentSt = lstatSync(parent, { bigint: true });
  rmSync(host, { recursive: true, force: true });
  lutimesNs(parent, parentSt.atimeNs, parentSt.mtimeNs);
}
