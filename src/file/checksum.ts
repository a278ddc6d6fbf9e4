// Content checksums of exactly what a COPY reads: per entry its type, mode, owner, size, link target,
// xattrs and content (never its mtime); a directory hashes its sorted children. A file that no COPY
// selects cannot change the checksum, so it cannot invalidate a cached step.
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type BigIntStats } from "node:fs";
import { digestOf } from "../llb/digest.ts";
import { canceledError } from "../util/abort.ts";
import { resolveInRoot } from "../util/fs-safe.ts";
import { lgetxattr, llistxattr } from "../util/libc.ts";
import { copySources } from "./copy.ts";
import type { SourceTree } from "./source-tree.ts";

const READ_BUFFER = Buffer.allocUnsafe(1 << 20);

export async function checksumSources(
  from: SourceTree,
  src: string,
  opts: { followSymlinks: boolean; allowWildcard: boolean },
  signal: AbortSignal,
): Promise<string> {
  const sources = copySources(from, src, opts.allowWildcard);
  const parts: Array<{ path: string; digest: string }> = [];
  for (const s of sources) {
    const host = resolveInRoot(from.root, s, opts.followSymlinks);
    const digest = await hashEntry(from, host, s === "/" ? "" : s.slice(1), true, signal);
    if (digest) parts.push({ path: s, digest });
  }
  return digestOf({ src, sources: parts });
}

async function hashEntry(from: SourceTree, host: string, rel: string, top: boolean, signal: AbortSignal): Promise<string | undefined> {
  if (signal.aborted) throw canceledError(signal);
  const st = lstatSync(host, { bigint: true });
  const excluded = !top && rel !== "" && from.isExcluded?.(rel);
  if (excluded && !(st.isDirectory() && from.mustEnter?.(rel))) return undefined;
  const header = entryHeader(from, host, st);
  if (st.isDirectory()) {
    const children: Array<[string, string]> = [];
    for (const name of readdirSync(host).sort()) {
      const d = await hashEntry(from, `${host}/${name}`, rel === "" ? name : `${rel}/${name}`, false, signal);
      if (d) children.push([name, d]);
    }
    return entryDigest(header, children.map(([name, d]) => `${name.length}:${name}${d}`).join(""));
  }
  const digest = entryDigest(header, st.isFile() ? (from.fileDigest ? from.fileDigest(host, st) : hashFile(host)) : "");
  from.onEntry?.(rel, digest);
  return digest;
}

/**
 * What identifies an entry besides its content, as one unambiguous string (lengths prefix the
 * free-form parts): mode, owner, size, link target, device numbers and xattrs — never times.
 */
function entryHeader(from: SourceTree, host: string, st: BigIntStats): string {
  const xattrs = llistxattr(host)
    .filter((n) => !n.startsWith("trusted.overlay.") && !n.startsWith("user.overlay."))
    .sort()
    .map((n) => `${n.length}:${n}=${lgetxattr(host, n)?.toString("hex") ?? ""};`)
    .join("");
  const uid = from.resetOwner ? 0 : Number(st.uid);
  const gid = from.resetOwner ? 0 : Number(st.gid);
  const size = st.isFile() ? Number(st.size) : 0;
  const link = st.isSymbolicLink() ? readlinkSync(host) : "";
  const rdev = st.isCharacterDevice() || st.isBlockDevice() ? Number(st.rdev) : 0;
  return `${Number(st.mode)} ${uid} ${gid} ${size} ${rdev} ${link.length}:${link} ${xattrs}`;
}

function entryDigest(header: string, content: string): string {
  return Bun.CryptoHasher.hash("sha256", `${header}\n${content}`, "hex");
}

/** The hex sha256 of a file's content, read with one reused buffer. */
export function hashFile(path: string): string {
  const hasher = new Bun.CryptoHasher("sha256");
  const fd = openSync(path, "r");
  try {
    for (;;) {
      const n = readSync(fd, READ_BUFFER, 0, READ_BUFFER.length, null);
      if (n === 0) break;
      hasher.update(READ_BUFFER.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hasher.digest("hex");
}
