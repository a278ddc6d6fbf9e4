// A persistent memo of a context directory's entry digests, so a rebuild reads only files that
// changed. An entry is trusted only while the file's device, inode, size, mtime and ctime (ns) are
// all unchanged: ctime catches a rewrite that keeps size and mtime (touch -r, rsync -t, cp -p),
// which BuildKit's own memo misses (moby/buildkit#4817).
//
// One file per context directory holds all its entries (a 20,000-file context loaded as SQLite
// rows cost 30-40 ms of a 0.24 s no-op rebuild, and the identity strings built to compare them
// another 30; as one SQLite blob, 6-7 ms, most of it first touches of the memory SQLite and the
// runtime copied it into). The file is mapped, not read: 0.1 ms. It is replaced whole by a rename,
// never written in place, so a mapping another process holds stays whole.
import { existsSync } from "node:fs";
import { decodeMemo, encodeMemo, readMemo, replaceMemo } from "./memo-file.ts";
import { resolve } from "node:path";

/** What the memo compares of an entry (fs/entry-stat.ts's EntryStat has it). */
export type MemoStat = { dev: number; ino: number | bigint; size: number; mtimeSec: number; mtimeNsec: number; ctimeSec: number; ctimeNsec: number };

/** dev, ino, size, mtime seconds, mtime ns, ctime seconds, ctime ns. */
const FIELDS = 7;
const VERSION = 1;

/**
 * Timestamps are only as fine as the kernel's clock tick (a few ms), or a whole second on coarse
 * filesystems (whose times have no nanoseconds): a file changed again within the same tick as it was
 * hashed could keep its times. Such "racy" files are not remembered, and are hashed again next time.
 */
const RACY_WINDOW_MS = 100;
const COARSE_RACY_WINDOW_MS = 2000;

export function isRacy(st: MemoStat, nowMs: number): boolean {
  const window = st.mtimeNsec === 0 && st.ctimeNsec === 0 ? COARSE_RACY_WINDOW_MS : RACY_WINDOW_MS;
  const mtimeMs = st.mtimeSec * 1000 + st.mtimeNsec / 1e6;
  const ctimeMs = st.ctimeSec * 1000 + st.ctimeNsec / 1e6;
  return nowMs - mtimeMs < window || nowMs - ctimeMs < window;
}

/** An entry's numbers in FIELDS order (an inode number past 2^53 is rounded, the other fields still tell files apart). */
export function numbersOf(st: MemoStat): number[] {
  return [st.dev, Number(st.ino), st.size, st.mtimeSec, st.mtimeNsec, st.ctimeSec, st.ctimeNsec];
}

export function sameEntry(n: ArrayLike<number>, o: number, st: MemoStat): boolean {
  return n[o] === st.dev && n[o + 1] === Number(st.ino) && n[o + 2] === st.size && n[o + 3] === st.mtimeSec
    && n[o + 4] === st.mtimeNsec && n[o + 5] === st.ctimeSec && n[o + 6] === st.ctimeNsec;
}

/**
 * A loaded row, read in the order the walk asks: entries are stored in walk order (see flush), so
 * each look-up is expected at the cursor and compared in place in the joined text. Splitting the
 * text and indexing its 20,000 paths took 15 ms of a 0.2 s no-op rebuild; they are made only when
 * a look-up is not where expected.
 */
class StoredEntries {
  private next = 0;
  private at = 0;
  private paths?: string[];
  private index?: Map<string, number>;
  private starts?: Int32Array;
  private digestList?: string[];
  /** `fixedDigests`: every digest is 64 characters (fixedWidth), read in place. */
  constructor(
    readonly count: number,
    readonly numbers: Float64Array,
    private readonly pathText: string,
    private readonly digestText: string,
    private readonly fixedDigests: boolean,
  ) {}

  /** The entry's position, or undefined when it is not stored. */
  find(rel: string): number | undefined {
    const end = this.at + rel.length;
    const i = this.next < this.count && this.pathText.startsWith(rel, this.at) && (end === this.pathText.length || this.pathText.charCodeAt(end) === 0)
      ? this.next
      : this.lookup(rel);
    if (i === undefined) return undefined;
    this.next = i + 1;
    this.at = i + 1 < this.count ? (this.starts?.[i + 1] ?? this.at + rel.length + 1) : this.pathText.length;
    return i;
  }

  /** Every stored path, in stored order (the text split once). */
  pathList(): readonly string[] {
    this.paths ??= this.pathText.split("\0");
    return this.paths;
  }

  /** Digests are 64 hex characters each (read in place); another length splits the text once. */
  digest(i: number): string {
    if (this.fixedDigests) return this.digestText.slice(i * 65, i * 65 + 64);
    this.digestList ??= this.digestText.split("\0");
    return this.digestList[i] as string;
  }

  private lookup(rel: string): number | undefined {
    this.indexPaths();
    return this.index?.get(rel);
  }

  private indexPaths(): void {
    if (this.index) return;
    const paths = this.pathList();
    this.index = new Map();
    this.starts = new Int32Array(this.count);
    let at = 0;
    paths.forEach((p, i) => {
      this.index?.set(p, i);
      (this.starts as Int32Array)[i] = at;
      at += p.length + 1;
    });
  }
}

/** Walk order: a directory's entries sorted by name, each directory's own entries before the next name. */
const walkKey = (path: string) => path.replaceAll("/", "\0");

type Entry = { path: string; numbers: ArrayLike<number>; digest: string };

/**
 * `kept` (in stored order, which is walk order) with `learned` merged in at their places: only the
 * few learned entries are sorted, and kept entries are compared only until the last is placed.
 */
function inWalkOrder(kept: Entry[], learned: Entry[]): Entry[] {
  const sorted = learned.map((e) => ({ key: walkKey(e.path), e })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const out: Entry[] = [];
  let j = 0;
  for (const e of kept) {
    if (j < sorted.length) {
      const key = walkKey(e.path);
      while (j < sorted.length && (sorted[j] as { key: string }).key < key) out.push((sorted[j++] as { e: Entry }).e);
    }
    out.push(e);
  }
  for (; j < sorted.length; j++) out.push((sorted[j] as { e: Entry }).e);
  return out;
}

/** Where the memo of context directory `dir` is kept under cache root `root`: named by its absolute path's digest. */
export function memoFile(root: string, dir: string): string {
  return `${root}/context-memos/${Bun.CryptoHasher.hash("sha256", resolve(dir), "hex")}`;
}

export class FileHashMemo {
  private stored?: StoredEntries;
  /** Stored entries looked up this time (hit or stale): the others may be gone. */
  private seen = new Uint8Array(0);
  private readonly dirty = new Map<string, { numbers: number[]; digest: string }>();
  /** Kept under the directory's absolute path, so that `kitbuild .` in two projects keeps two memos. */
  private readonly file: string;

  /** The memo of the entries under `dir`, as the paths looked up spell it (no trailing slash), in cache root `root`. */
  constructor(private readonly root: string, private readonly dir: string) {
    this.file = memoFile(root, dir);
    this.stored = load(this.file);
    this.seen = new Uint8Array(this.stored?.count ?? 0);
  }

  /** The memoized digest of `path`, if it is under the directory and its identity and times still match. */
  get(path: string, st: MemoStat): string | undefined {
    const rel = this.relative(path);
    if (rel === undefined) return undefined;
    const learned = this.dirty.size > 0 ? this.dirty.get(rel) : undefined;
    if (learned) return sameEntry(learned.numbers, 0, st) ? learned.digest : undefined;
    const i = this.stored?.find(rel);
    if (i === undefined || !this.stored) return undefined;
    this.seen[i] = 1;
    return sameEntry(this.stored.numbers, i * FIELDS, st) ? this.stored.digest(i) : undefined;
  }

  set(path: string, st: MemoStat, digest: string, nowMs: number): void {
    const rel = this.relative(path);
    if (rel === undefined || isRacy(st, nowMs)) return;
    this.dirty.set(rel, { numbers: numbersOf(st), digest });
  }

  /**
   * Writes the directory's entries as one row when something was learned: what was stored and still
   * holds (an entry not looked up this time is kept while its file exists), then what is new, all
   * in walk order.
   */
  flush(): void {
    if (this.dirty.size === 0) return;
    const kept: Entry[] = [];
    const stored = this.stored;
    stored?.pathList().forEach((p, i) => {
      if (this.dirty.has(p) || (!this.seen[i] && !existsSync(`${this.dir}/${p}`))) return;
      kept.push({ path: p, numbers: stored.numbers.subarray(i * FIELDS, (i + 1) * FIELDS), digest: stored.digest(i) });
    });
    const entries = inWalkOrder(kept, [...this.dirty].map(([path, e]) => ({ path, ...e })));
    const numbers = new Float64Array(entries.length * FIELDS);
    entries.forEach((e, i) => numbers.set(e.numbers, i * FIELDS));
    this.write(encodeMemo(VERSION, entries.length, numbers, entries.map((e) => e.path).join("\0"), entries.map((e) => e.digest).join("\0")));
    this.dirty.clear();
  }

  /** Replaces the file whole. A memo that cannot be written (a full disk) only makes the next build hash again. */
  private write(blob: Uint8Array): void {
    // Named with the pid, as the cache root's other temporary files: a dead process's is removed at start.
    replaceMemo(`${this.root}/tmp/context-memo-${process.pid}`, this.file, blob);
  }

  private relative(path: string): string | undefined {
    return path.length > this.dir.length + 1 && path.startsWith(this.dir) && path[this.dir.length] === "/" ? path.slice(this.dir.length + 1) : undefined;
  }
}

/** The stored entries; undefined when there are none or they cannot be read. */
function load(file: string): StoredEntries | undefined {
  const blob = readMemo(file);
  return blob && decode(blob);
}

/** The stored entries; undefined for a blob of another version or a damaged one (the memo then starts empty). */
function decode(blob: Uint8Array): StoredEntries | undefined {
  const parts = decodeMemo(blob, VERSION, FIELDS);
  if (!parts) return undefined;
  const { count, numbers, first: pathText, second: digestText } = parts;
  // Digests of 64 characters with a NUL after each are counted by their length (counting the
  // NULs of 1.3 MB took 1 ms of a no-op rebuild's start).
  const fixed = fixedWidth(digestText, count);
  return countOf(pathText) === count && (fixed || countOf(digestText) === count) ? new StoredEntries(count, numbers, pathText, digestText, fixed) : undefined;
}

/** Whether `text` is `count` items of 64 characters joined by NUL. */
function fixedWidth(text: string, count: number): boolean {
  if (text.length !== count * 65 - 1) return false;
  for (let i = 1; i < count; i++) if (text.charCodeAt(i * 65 - 1) !== 0) return false;
  return true;
}

/** How many NUL-joined items a text holds. */
function countOf(text: string): number {
  let n = 1;
  for (let at = text.indexOf("\0"); at !== -1; at = text.indexOf("\0", at + 1)) n++;
  return n;
}
