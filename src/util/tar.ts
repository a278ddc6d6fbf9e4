// Writing directory trees as tar streams with tar-stream: sorted entries, PAX headers, numeric ids,
// hardlinks within the tree, nanosecond mtimes and xattrs. Used by the tar exporter and layer diffs.
import { createReadStream, lstatSync, readdirSync, readlinkSync, type BigIntStats } from "node:fs";
import type { Header, Pack } from "tar-stream";
import { canceledError } from "./abort.ts";
import { lgetxattr, llistxattr } from "./libc.ts";

export type PackOptions = {
  signal: AbortSignal;
  /** Clamp entry mtimes to this (seconds since the epoch), for reproducible output. */
  sourceDateEpoch?: number;
  onFile?: (size: number) => void;
};

/** Packs the tree at `root` (its contents, not the directory itself) into `pack`; does not finalize. */
export async function packTree(root: string, pack: Pack, opts: PackOptions): Promise<void> {
  const links = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    for (const name of readdirSync(rel ? `${root}/${rel}` : root).sort()) {
      if (opts.signal.aborted) throw canceledError(opts.signal);
      const child = rel ? `${rel}/${name}` : name;
      const host = `${root}/${child}`;
      const st = lstatSync(host, { bigint: true });
      await packEntry(pack, host, child, st, links, opts);
      if (st.isDirectory()) await walk(child);
    }
  };
  await walk("");
}

async function packEntry(pack: Pack, host: string, name: string, st: BigIntStats, links: Map<string, string>, opts: PackOptions): Promise<void> {
  const header: Partial<Header> & { name: string; pax: Record<string, string> } = {
    name: st.isDirectory() ? `${name}/` : name,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtime: new Date(Number(clampNs(st.mtimeNs, opts.sourceDateEpoch) / 1_000_000n)),
    pax: paxRecords(host, st, opts.sourceDateEpoch),
  };
  const inode = `${st.dev}:${st.ino}`;
  if (!st.isDirectory() && st.nlink > 1n && links.has(inode)) {
    return entry(pack, { ...header, type: "link", linkname: links.get(inode) as string, size: 0 });
  }
  if (!st.isDirectory() && st.nlink > 1n) links.set(inode, name);
  if (st.isDirectory()) return entry(pack, { ...header, type: "directory" });
  if (st.isSymbolicLink()) return entry(pack, { ...header, type: "symlink", linkname: readlinkSync(host) });
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    const rdev = Number(st.rdev);
    const devmajor = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfff);
    const devminor = (rdev & 0xff) | ((rdev >> 12) & ~0xff);
    return entry(pack, { ...header, type: st.isCharacterDevice() ? "character-device" : "block-device", devmajor, devminor });
  }
  if (st.isFIFO()) return entry(pack, { ...header, type: "fifo" });
  if (!st.isFile()) return;
  opts.onFile?.(Number(st.size));
  await new Promise<void>((resolve, reject) => {
    const sink = pack.entry({ ...header, type: "file", size: Number(st.size) }, (err) => (err ? reject(err) : resolve()));
    createReadStream(host).on("error", reject).pipe(sink);
  });
}

function entry(pack: Pack, header: Partial<Header> & { name: string }): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
}

function clampNs(ns: bigint, epoch: number | undefined): bigint {
  if (epoch === undefined) return ns;
  const max = BigInt(epoch) * 1_000_000_000n;
  return ns > max ? max : ns;
}

function paxRecords(host: string, st: BigIntStats, epoch: number | undefined): Record<string, string> {
  const pax: Record<string, string> = {};
  const mtime = clampNs(st.mtimeNs, epoch);
  const sec = mtime / 1_000_000_000n;
  const frac = mtime % 1_000_000_000n;
  if (frac !== 0n) pax.mtime = `${sec}.${frac.toString().padStart(9, "0").replace(/0+$/, "")}`;
  for (const name of llistxattr(host).sort()) {
    if (name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.")) continue;
    const value = lgetxattr(host, name);
    if (value !== undefined) pax[`SCHILY.xattr.${name}`] = value.toString("latin1");
  }
  return pax;
}
