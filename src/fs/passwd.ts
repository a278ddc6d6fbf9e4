// Reading /etc/passwd and /etc/group of a root filesystem (resolved in-root) to turn user and group
// names into ids, as COPY --chown and RUN's USER need.
import { readFileSync } from "node:fs";
import { errnoCode } from "../util/errors.ts";
import { resolveInRoot } from "./fs-safe.ts";

export type PasswdEntry = { name: string; uid: number; gid: number; home: string };
export type GroupEntry = { name: string; gid: number; members: string[] };

function readRootFile(root: string, path: string): string {
  try {
    return readFileSync(resolveInRoot(root, path, true), "utf8");
  } catch (e) {
    const code = errnoCode(e);
    if (code === "ENOENT" || code === "ENOTDIR") return "";
    throw e;
  }
}

function rows(text: string): string[][] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"))
    .map((l) => l.split(":"));
}

export function readPasswd(root: string): PasswdEntry[] {
  return rows(readRootFile(root, "/etc/passwd"))
    .filter((r) => r.length >= 4)
    .map((r) => ({ name: r[0] as string, uid: Number(r[2]), gid: Number(r[3]), home: r[5] ?? "/" }));
}

export function readGroup(root: string): GroupEntry[] {
  return rows(readRootFile(root, "/etc/group"))
    .filter((r) => r.length >= 3)
    .map((r) => ({ name: r[0] as string, gid: Number(r[2]), members: (r[3] ?? "").split(",").filter(Boolean) }));
}

export function isNumericId(s: string): boolean {
  return /^\d+$/.test(s);
}
