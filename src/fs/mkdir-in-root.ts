// Creating a directory and its missing parents inside a root (BuildKit's MkdirAll), shared by file
// ops (COPY, WORKDIR, mkdir) and executors (a step's working directory).
import { chmodSync, chownSync, mkdirSync } from "node:fs";
import { KitError } from "../util/errors.ts";
import { lstatOrUndefined, type Owner } from "./copy-tree.ts";
import { inRootPath } from "./fs-safe.ts";
import { lutimesNs } from "./libc.ts";

export type DirOptions = { owner?: Owner; mode?: number; timestampNs?: bigint };

/**
 * Creates a directory and its missing parents inside the root, as BuildKit's MkdirAll: new ones get
 * `mode` (0755 by default), `owner` (else root) and, when given, the timestamp.
 */
export function mkdirInRoot(root: string, rel: string, ownerOrOptions?: Owner | DirOptions, mode = 0o755): void {
  const opts: DirOptions = ownerOrOptions && "uid" in ownerOrOptions ? { owner: ownerOrOptions, mode } : { mode, ...ownerOrOptions };
  const created: string[] = [];
  // The resolved path has no symlinks among its existing components; create the missing ones.
  let host = root;
  for (const part of inRootPath(root, rel, true).split("/").filter(Boolean)) {
    host = `${host}/${part}`;
    const st = lstatOrUndefined(host);
    if (!st) {
      mkdirSync(host);
      if (opts.owner) chownSync(host, opts.owner.uid, opts.owner.gid);
      chmodSync(host, opts.mode ?? 0o755);
      created.push(host);
    } else if (!st.isDirectory()) {
      throw new KitError("E_COPY_NOT_A_DIRECTORY", `cannot create directory "${host.slice(root.length)}": a file of that name exists`, {
        hint: "a destination path component is a file in the image",
      });
    }
  }
  // Times last: creating each child changed its parent's.
  if (opts.timestampNs !== undefined) for (const d of created.reverse()) lutimesNs(d, opts.timestampNs, opts.timestampNs);
}
