// Content checksums of exactly what a COPY reads: per entry its type, mode, owner, size, link target,
// xattrs and content (never its mtime); a directory hashes its sorted children. A file that no COPY
// selects (left out by .dockerignore, --exclude, or not matched by --parents patterns) cannot change
// the checksum, so it cannot invalidate a cached step.
import { closeSync, openSync, readdirSync, readlinkSync, readSync } from "node:fs";
import { digestOf } from "../llb/digest.ts";
import { canceledError } from "../util/abort.ts";
import { undecodableNameError } from "../fs/file-names.ts";
import { closeDirectory, type EntryStat, isBlockDevice, isCharacterDevice, isDirectory, isFile, isSymbolicLink, lstatEntry, lstatEntryAt, openDirectory, scratchEntryStat } from "../fs/entry-stat.ts";
import { resolveInRoot } from "../fs/fs-safe.ts";
import { lgetxattr, llistxattr } from "../fs/libc.ts";
import { PatternMatcher } from "../util/patterns.ts";
import { copySources } from "./copy.ts";
import type { SourceTree } from "./source-tree.ts";

/** Made on first use: a no-op rebuild reads no file, and 1 MiB made at start counted toward its first collection. */
let readBuffer: Buffer | undefined;

export type ChecksumOptions = {
  followSymlinks: boolean;
  allowWildcard: boolean;
  includePatterns?: string[];
  excludePatterns?: string[];
};

type Selection = { include?: PatternMatcher; exclude?: PatternMatcher };

/**
 * One walk's fixed parts, made once per source: a walk of 20,000 entries allocated a closure or two
 * per entry when they were made as it went, and the garbage collections that followed.
 */
type Walk = {
  from: SourceTree;
  sel: Selection;
  signal: AbortSignal;
  /** An entry's digest read from the filesystem (what a memo's `entryDigest` is given). */
  compute: (host: string, st: EntryStat) => string;
  /** The entries' context paths and digests, in pairs, while a whole source is recorded for the build. */
  record?: string[];
  /**
   * Where the entries of an open directory are stat'ed into, one after the other: an entry's facts
   * are read before the next entry is stat'ed (a directory's header before its children).
   */
  stat: EntryStat;
};

export async function checksumSources(from: SourceTree, src: string, opts: ChecksumOptions, signal: AbortSignal): Promise<string> {
  const sources = copySources(from, src, opts.allowWildcard, opts.followSymlinks);
  const sel: Selection = {
    include: opts.includePatterns?.length ? new PatternMatcher(opts.includePatterns) : undefined,
    exclude: opts.excludePatterns?.length ? new PatternMatcher(opts.excludePatterns) : undefined,
  };
  const compute = (host: string, st: EntryStat) => {
    if (!isFile(st)) return entryDigest(entryHeader(from, host, st), "");
    from.onRead?.(st.size);
    return entryDigest(entryHeader(from, host, st), hashFile(host));
  };
  const walk: Walk = { from, sel, signal, compute, stat: scratchEntryStat() };
  const parts: Array<{ path: string; digest: string }> = [];
  for (const s of sources) {
    const host = resolveInRoot(from.root, s, opts.followSymlinks);
    const digest = hashSource(walk, host, s === "/" ? "" : s.slice(1));
    if (digest) parts.push({ path: s, digest });
  }
  return digestOf({ src, include: opts.includePatterns ?? [], exclude: opts.excludePatterns ?? [], sources: parts });
}

/** A whole source's digest, from the build's earlier checksum of it when there is one (and no patterns select within it). */
function hashSource(walk: Walk, host: string, rel: string): string | undefined {
  const { from, sel } = walk;
  const memo = from.sourceDigests;
  if (!memo || sel.include || sel.exclude) return hashEntry(walk, host, rel, "");
  // The context path matters too: .dockerignore judges a source reached through a symlink by its own name.
  const key = `${rel}\0${host}`;
  const known = memo.get(key);
  if (known) {
    if (from.onEntries) from.onEntries(known.entries);
    else for (let i = 0; i < known.entries.length; i += 2) from.onEntry?.(known.entries[i] as string, known.entries[i + 1] as string);
    return known.digest;
  }
  const entries: string[] = [];
  const digest = hashEntry({ ...walk, record: entries }, host, rel, "");
  memo.set(key, { digest, entries });
  return digest;
}

/** Whether an entry below the source's top may be copied (or, for a directory, lead to a copied one). */
function selected(from: SourceTree, sel: Selection, rel: string, within: string, isDir: boolean): boolean {
  const ignored = from.isExcluded?.(rel) || sel.exclude?.matches(within);
  if (ignored) return isDir && ((from.mustEnter?.(rel) ?? false) || (sel.exclude?.hasExclusions ?? false));
  return isDir || !sel.include || sel.include.matches(within);
}

/**
 * `rel` is the path in the context (for .dockerignore), `within` the path inside the copied source;
 * an entry of a directory the walk has open is stat'ed through it (`dirFd`, its `name` there).
 * Synchronous: an await per entry cost more than the entry's stat.
 */
function hashEntry(walk: Walk, host: string, rel: string, within: string, dirFd = -1, name = ""): string | undefined {
  const { from, sel } = walk;
  if (walk.signal.aborted) throw canceledError(walk.signal);
  let st: EntryStat;
  try {
    st = dirFd >= 0 ? lstatEntryAt(dirFd, name, host, walk.stat) : lstatEntry(host);
  } catch (e) {
    const badName = undecodableNameError(host, e);
    // A name that is not UTF-8 stops the build only when the copy would read it.
    if (badName && within !== "" && !selected(from, sel, rel, within, false)) return undefined;
    throw badName ?? e;
  }
  if (within !== "" && !selected(from, sel, rel, within, isDirectory(st))) return undefined;
  if (isDirectory(st)) {
    const header = entryHeader(from, host, st);
    let children = "";
    const fd = openDirectory(host);
    try {
      for (const child of from.listDirectory ? from.listDirectory(host, st) : readdirSync(host).sort()) {
        const childRel = rel === "" ? child : `${rel}/${child}`;
        // Copying the whole context, both paths are the same string: made once.
        const childWithin = within === rel ? childRel : within === "" ? child : `${within}/${child}`;
        const d = hashEntry(walk, `${host}/${child}`, childRel, childWithin, fd, child);
        if (d) children += `${child.length}:${child}${d}`;
      }
    } finally {
      closeDirectory(fd);
    }
    // A directory only walked through for --parents patterns counts only by what it leads to.
    if (children === "" && sel.include && !sel.include.matches(within)) return undefined;
    return entryDigest(header, children);
  }
  const digest = from.entryDigest ? from.entryDigest(host, st, walk.compute) : walk.compute(host, st);
  from.onEntry?.(rel, digest);
  walk.record?.push(rel, digest);
  return digest;
}

/**
 * What identifies an entry besides its content, as one unambiguous string (lengths prefix the
 * free-form parts): mode, owner, size, link target, device numbers and xattrs — never times.
 */
function entryHeader(from: SourceTree, host: string, st: EntryStat): string {
  const xattrs = llistxattr(host)
    .filter((n) => !n.startsWith("trusted.overlay.") && !n.startsWith("user.overlay."))
    .sort()
    .map((n) => `${n.length}:${n}=${lgetxattr(host, n)?.toString("hex") ?? ""};`)
    .join("");
  const uid = from.resetOwner ? 0 : st.uid;
  const gid = from.resetOwner ? 0 : st.gid;
  const size = isFile(st) ? st.size : 0;
  const link = isSymbolicLink(st) ? readlinkSync(host) : "";
  const rdev = isCharacterDevice(st) || isBlockDevice(st) ? st.rdev : 0;
  return `${st.mode} ${uid} ${gid} ${size} ${rdev} ${link.length}:${link} ${xattrs}`;
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
      readBuffer ??= Buffer.allocUnsafe(1 << 20);
      const n = readSync(fd, readBuffer, 0, readBuffer.length, null);
      if (n === 0) break;
      hasher.update(readBuffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hasher.digest("hex");
}
