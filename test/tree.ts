// Describes a directory tree as sorted lines (path, type, mode, owner, size, content digest, link
// target, device, xattrs, optionally mtime), so tests can compare two trees in one assertion and
// show exactly which entries differ.
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { lgetxattr, llistxattr } from "../src/fs/libc.ts";

export type TreeOptions = { mtimes?: boolean; owners?: boolean };

export function describeTree(root: string, opts: TreeOptions = {}): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(rel === "" ? root : `${root}/${rel}`).sort()) {
      const path = rel === "" ? name : `${rel}/${name}`;
      const host = `${root}/${path}`;
      const st = lstatSync(host, { bigint: true });
      const parts = [path, typeName(st), (st.mode & 0o7777n).toString(8)];
      if (opts.owners !== false) parts.push(`${st.uid}:${st.gid}`);
      if (st.isFile()) parts.push(String(st.size), new Bun.CryptoHasher("sha256").update(readFileSync(host)).digest("hex").slice(0, 16));
      if (st.isSymbolicLink()) parts.push(`-> ${readlinkSync(host)}`);
      if (st.isCharacterDevice() || st.isBlockDevice()) parts.push(`rdev ${st.rdev}`);
      if (opts.mtimes && !st.isSymbolicLink()) parts.push(`mtime ${st.mtimeNs}`);
      for (const x of llistxattr(host).sort()) {
        if (!x.startsWith("trusted.overlay.")) parts.push(`${x}=${lgetxattr(host, x)?.toString("hex")}`);
      }
      out.push(parts.join(" "));
      if (st.isDirectory()) walk(path);
    }
  };
  walk("");
  return out;
}

function typeName(st: import("node:fs").BigIntStats): string {
  if (st.isDirectory()) return "dir";
  if (st.isFile()) return "file";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isCharacterDevice()) return "chardev";
  if (st.isBlockDevice()) return "blockdev";
  if (st.isFIFO()) return "fifo";
  return "other";
}
