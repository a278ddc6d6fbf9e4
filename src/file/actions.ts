// The file actions of a FileOp other than copy: mkdir (WORKDIR), mkfile (heredocs) and rm, all
// resolved inside the root, as BuildKit's file backend does them.
import { chownSync, chmodSync, rmSync, writeFileSync } from "node:fs";
import { posix } from "node:path";
import type { MkdirAction, MkfileAction, RmAction } from "../llb/ops.ts";
import type { Owner } from "../fs/copy-tree.ts";
import { lstatOrUndefined } from "../fs/copy-tree.ts";
import { KitError } from "../util/errors.ts";
import { cleanInRoot, inRootPath, resolveInRoot } from "../fs/fs-safe.ts";
import { lutimesNs } from "../fs/libc.ts";
import { mkdirInRoot } from "../fs/mkdir-in-root.ts";
import { hasWildcard, resolveWildcards } from "./wildcard.ts";

const nsOf = (seconds: number | undefined) => (seconds === undefined ? undefined : BigInt(seconds) * 1_000_000_000n);

export function mkdirAction(root: string, action: MkdirAction, owner?: Owner): void {
  const rel = inRootPath(root, action.path, true);
  if (!action.makeParents) {
    const parent = rel.slice(0, rel.lastIndexOf("/")) || "/";
    if (!lstatOrUndefined(resolveInRoot(root, parent, true))?.isDirectory()) {
      throw new KitError("E_FS_NOT_FOUND", `cannot create "${action.path}": its parent directory does not exist`);
    }
  }
  mkdirInRoot(root, rel, { owner, mode: action.mode, timestampNs: nsOf(action.timestamp) });
}

/** Writes the file (through a final symlink, in-root, as BuildKit does); its parents are created. */
export function mkfileAction(root: string, action: MkfileAction, owner?: Owner): void {
  const rel = inRootPath(root, action.path, true);
  mkdirInRoot(root, posix.dirname(rel), { owner });
  const host = root + rel;
  if (lstatOrUndefined(host)?.isDirectory()) {
    throw new KitError("E_FS_IS_DIRECTORY", `cannot write file "${action.path}": a directory of that name exists`);
  }
  writeFileSync(host, action.data, { mode: action.mode });
  if (owner) chownSync(host, owner.uid, owner.gid);
  chmodSync(host, action.mode);
  const ts = nsOf(action.timestamp);
  if (ts !== undefined) lutimesNs(host, ts, ts);
}

export function rmAction(root: string, action: RmAction): void {
  const paths = action.allowWildcard && hasWildcard(action.path) ? resolveWildcards(root, action.path) : [cleanInRoot(action.path)];
  for (const p of paths) {
    const host = resolveInRoot(root, p, false);
    if (!lstatOrUndefined(host)) {
      if (action.allowNotFound) continue;
      throw new KitError("E_FS_NOT_FOUND", `cannot remove "${p}": not found`);
    }
    rmSync(host, { recursive: true, force: true });
  }
}
