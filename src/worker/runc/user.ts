// Resolving a step's USER ("name", "uid", "name:group", "uid:gid") against the root filesystem's
// /etc/passwd and /etc/group, with supplementary groups and the home directory.
import { KitError } from "../../util/errors.ts";
import { isNumericId, readGroup, readPasswd } from "../../fs/passwd.ts";

export type ResolvedUser = { uid: number; gid: number; additionalGids: number[]; home: string };

export function resolveUser(rootfs: string, spec: string): ResolvedUser {
  // No USER is uid 0 whether or not /etc/passwd names it (runc's GetExecUser defaults, which
  // BuildKit uses): a FROM scratch image can RUN a static binary.
  const [userPart = "", groupPart] = spec === "" ? ["0"] : spec.split(":", 2);
  const passwd = readPasswd(rootfs);
  const entry = isNumericId(userPart)
    ? passwd.find((p) => p.uid === Number(userPart))
    : passwd.find((p) => p.name === userPart);
  if (!entry && !isNumericId(userPart)) {
    throw new KitError("E_RUN_USER", `unable to find user "${userPart}": no matching entries in passwd file`, {
      hint: "create the user in an earlier step (useradd/adduser) or use a numeric uid",
    });
  }
  const uid = entry?.uid ?? Number(userPart);
  const groups = readGroup(rootfs);
  let gid = entry?.gid ?? 0;
  if (groupPart !== undefined && groupPart !== "") {
    const g = isNumericId(groupPart) ? { gid: Number(groupPart) } : groups.find((x) => x.name === groupPart);
    if (!g) {
      throw new KitError("E_RUN_USER", `unable to find group "${groupPart}": no matching entries in group file`, {
        hint: "create the group in an earlier step (groupadd/addgroup) or use a numeric gid",
      });
    }
    gid = g.gid;
  }
  // Supplementary groups only when the group was not given explicitly, as docker does.
  const additionalGids =
    groupPart === undefined && entry ? groups.filter((g) => g.members.includes(entry.name) && g.gid !== gid).map((g) => g.gid) : [];
  return { uid, gid, additionalGids, home: entry?.home ?? "/" };
}
