// Who kitbuild runs as: root on the host, rootless (re-executed in a user namespace where the user is
// 0 and its subordinate ids are 1..N), or single-id (only the user mapped, to 0). The subordinate
// ranges come from `getsubids` where it exists, else /etc/subuid and /etc/subgid.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** One line of a uid_map/gid_map: `inside` .. `inside+count-1` are `outside` .. on the host. */
export type IdRange = { inside: number; outside: number; count: number };

/** A user namespace's mapping, as kitbuild writes it (and records in a cache root). */
export type IdMapping = { uids: IdRange[]; gids: IdRange[] };

export type UserMode =
  | { kind: "root" }
  /** In a user namespace kitbuild made; `single` when only the user is mapped. */
  | { kind: "rootless"; userName: string; hostUid: number; hostGid: number; mapping: IdMapping; single: boolean; runtimeDir: string };

/** The subordinate range of `user` for "uid" or "gid", or undefined when it has none. */
export function subordinateRange(user: { name: string; id: number }, kind: "uid" | "gid"): { start: number; count: number } | undefined {
  const fromTool = spawnSync("getsubids", kind === "gid" ? ["-g", user.name] : [user.name], { encoding: "utf8" });
  const text = fromTool.status === 0 ? fromTool.stdout : readOrEmpty(`/etc/sub${kind}`);
  for (const line of text.split("\n")) {
    // getsubids prints "0: name start count"; the files hold "name:start:count" (the name may be the id).
    const fields = fromTool.status === 0 ? line.trim().split(/\s+/).slice(1) : line.trim().split(":");
    const [owner, start, count] = fields;
    if (owner !== user.name && owner !== String(user.id)) continue;
    if (start && count && /^\d+$/.test(start) && /^\d+$/.test(count) && Number(count) > 0) return { start: Number(start), count: Number(count) };
  }
  return undefined;
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/**
 * The name of `uid` (through NSS with getent, else /etc/passwd), or the id itself: never $USER, which
 * cron, systemd units and `env -i` leave unset and anyone may set to another user's name.
 */
export function userNameOf(uid: number): string {
  const res = spawnSync("getent", ["passwd", String(uid)], { encoding: "utf8" });
  const fromNss = res.status === 0 ? res.stdout.split(":")[0] : undefined;
  if (fromNss) return fromNss;
  const line = readOrEmpty("/etc/passwd").split("\n").find((l) => l.split(":")[2] === String(uid));
  return line?.split(":")[0] || String(uid);
}

/** The mapping for the calling user: itself as 0, then its subordinate ranges as 1..N (when both exist). */
export function mappingFor(uid: number, gid: number): { mapping: IdMapping; single: boolean } {
  const name = userNameOf(uid);
  const subUid = subordinateRange({ name, id: uid }, "uid");
  const subGid = subordinateRange({ name, id: uid }, "gid");
  const self = (outside: number): IdRange => ({ inside: 0, outside, count: 1 });
  if (!subUid || !subGid) return { mapping: { uids: [self(uid)], gids: [self(gid)] }, single: true };
  return {
    mapping: {
      uids: [self(uid), { inside: 1, outside: subUid.start, count: subUid.count }],
      gids: [self(gid), { inside: 1, outside: subGid.start, count: subGid.count }],
    },
    single: false,
  };
}

/** The mapping as text, for --version and the cache root's record ("0:1000:1,1:100000:65536"). */
export function formatMapping(ranges: IdRange[]): string {
  return ranges.map((r) => `${r.inside}:${r.outside}:${r.count}`).join(",");
}

/** The command that gives `user` a subordinate range (as root): 65536 ids past every range already given. */
export function addRangeCommand(user: string): string {
  let end = 100000;
  for (const kind of ["uid", "gid"]) {
    for (const line of readOrEmpty(`/etc/sub${kind}`).split("\n")) {
      const [, start, count] = line.trim().split(":");
      if (start && count && /^\d+$/.test(start) && /^\d+$/.test(count)) end = Math.max(end, Number(start) + Number(count));
    }
  }
  const span = `${end}-${end + 65535}`;
  return `sudo usermod --add-subuids ${span} --add-subgids ${span} ${user}`;
}

/** Whether `id` (inside the namespace) is mapped. */
export function isMapped(ranges: IdRange[], id: number): boolean {
  return ranges.some((r) => id >= r.inside && id < r.inside + r.count);
}
