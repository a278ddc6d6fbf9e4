// A cache root remembers the id mapping it was made with: files in its snapshots are owned by ids
// as that mapping shows them, so a root made by root and used rootless (or with another subordinate
// range) would see wrong owners. Using it with another mapping is refused, never silently corrupted.
import { readFileSync, renameSync, statfsSync, writeFileSync } from "node:fs";
import { errnoCode, KitError } from "../util/errors.ts";
import { formatMapping, type UserMode } from "../worker/rootless/id-map.ts";

function describe(user: UserMode): string {
  if (user.kind === "root") return "host";
  return `uids ${formatMapping(user.mapping.uids)} gids ${formatMapping(user.mapping.gids)}`;
}

/** statfs's f_type of NFS: its server sees the host ids, so subordinate owners and xattrs fail there. */
const NFS_SUPER_MAGIC = 0x6969;

/** A rootless build cannot keep its files on NFS: refused with the fix, before anything is written. */
export function checkRootlessFilesystem(root: string, user: UserMode): void {
  if (user.kind !== "rootless") return;
  let type: number;
  try {
    type = Number(statfsSync(root).type);
  } catch {
    return; // the cache root's own checks report an unusable directory
  }
  if (type === NFS_SUPER_MAGIC) {
    throw new KitError("E_CACHE_ROOT", `the cache root "${root}" is on NFS, where a rootless build cannot set its files' owners`, {
      hint: "set KITBUILD_ROOT to a directory on a local filesystem (for example under /tmp or /var/tmp)",
    });
  }
}

/** Records `user`'s mapping in a new cache root, or checks it against the recorded one. */
export function checkIdMapping(root: string, user: UserMode): void {
  const path = `${root}/id-mapping`;
  const mine = describe(user);
  let recorded: string;
  try {
    recorded = readFileSync(path, "utf8").trim();
  } catch (e) {
    if (errnoCode(e) !== "ENOENT") throw new KitError("E_CACHE_ROOT", `cannot read "${path}"`, { cause: e });
    const tmp = `${root}/tmp/id-mapping-${process.pid}`;
    writeFileSync(tmp, `${mine}\n`);
    renameSync(tmp, path);
    return;
  }
  if (recorded === mine) return;
  const who = (d: string) => (d === "host" ? "root on the host" : `a user namespace (${d})`);
  throw new KitError("E_CACHE_IDMAP", `the cache in "${root}" was made by ${who(recorded)} and cannot be used by ${who(mine)}`, {
    hint: "set KITBUILD_ROOT to a cache root of this user and mapping (each user has its own by default)",
  });
}
