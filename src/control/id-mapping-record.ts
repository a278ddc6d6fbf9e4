// A cache root remembers the id mapping it was made with: files in its snapshots are owned by ids
// as that mapping shows them, so a root made by root and used rootless (or with another subordinate
// range) would see wrong owners. Using it with another mapping is refused, never silently corrupted.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { errnoCode, KitError } from "../util/errors.ts";
import { formatMapping, type UserMode } from "../worker/rootless/id-map.ts";

function describe(user: UserMode): string {
  if (user.kind === "root") return "host";
  return `uids ${formatMapping(user.mapping.uids)} gids ${formatMapping(user.mapping.gids)}`;
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
