// A persistent memo of a context directory's entry digests, so a rebuild reads only files that
// changed. An entry is trusted only while the file's device, inode, size, mtime and ctime (ns) are
// all unchanged: ctime catches a rewrite that keeps size and mtime (touch -r, rsync -t, cp -p),
// which BuildKit's own memo misses (moby/buildkit#4817).
//
// One row per directory holds all its entries as one blob (table context_memos): a 20,000-file
// context loaded as rows cost 30-40 ms of a 0.24 s no-op rebuild, and the identity strings built to
// compare them another 30; the blob loads in a few ms and entries compare as numbers.
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { resolve } from "node:path";

/** What the memo compares of an entry (fs/entry-stat.ts's EntryStat has it). */
export type MemoStat = { dev: number; ino: string; size: number; mtimeSec: number; mtimeNsec: number; ctimeSec: number; ctimeNsec: number };

/** dev, ino, size, mtime seconds, mtime ns, ctime seconds, ctime ns. */
const FIELDS = 7;
const VERSION = 1;
/** version, count, byte lengths of the paths and of the digests; the numbers start 8-aligned after it. */
const HEADER = 16;

/**
 * Timestamps are only as fine as the kernel's clock tick (a few ms), or a whole second on coarse
 * filesystems (whose times have no nanoseconds): a file changed again within the same tick as it was
 * hashed could keep its times. Such "racy" files are not remembered, and are hashed again next time.
 */
const RACY_WINDOW_MS = 100;
const COARSE_RACY_WINDOW_MS = 2000;

function isRacy(st: MemoStat, nowMs: number): boolean {
  const window = st.mtimeNsec === 0 && st.ctimeNsec === 0 ? COARSE_RACY_WINDOW_MS : RACY_WINDOW_MS;
  const mtimeMs = st.mtimeSec * 1000 + st.mtimeNsec / 1e6;
  const ctimeMs = st.ctimeSec * 1000 + st.ctimeNsec / 1e6;
  return nowMs - mtimeMs < window || nowMs - ctimeMs < window;
}

/** An entry's numbers in FIELDS order (an inode number past 2^53 is rounded, the other fields still tell files apart). */
function numbersOf(st: MemoStat): number[] {
  return [st.dev, Number(st.ino), st.size, st.mtimeSec, st.mtimeNsec, st.ctimeSec, st.ctimeNsec];
}

function sameEntry(n: ArrayLike<number>, o: number, st: MemoStat): boolean {
  return n[o] === st.dev && n[o + 1] === Number(st.ino) && n[o + 2] === st.size && n[o + 3] === st.mtimeSec
    && n[o + 4] === st.mtimeNsec && n[o + 5] === st.ctimeSec && n[o + 6] === st.ctimeNsec;
}

type Stored = { paths: string[]; numbers: Float64Array; digests: string[] };

export class FileHashMemo {
  /** Path relative to the directory → index into the stored arrays. */
  private readonly index = new Map<string, number>();
  private stored: Stored = { paths: [], numbers: new Float64Array(0), digests: [] };
  /** Stored entries looked up this time (hit or stale): the others may be gone. */
  private seen = new Uint8Array(0);
  private readonly dirty = new Map<string, { numbers: number[]; digest: string }>();

  /** Kept under the directory's absolute path, so that `kitbuild .` in two projects keeps two memos. */
  private readonly key: string;

  /** The memo of the entries under `dir`, as the paths looked up spell it (no trailing slash). */
  constructor(private readonly db: Database, private readonly dir: string) {
    this.key = resolve(dir);
    const row = db.query("SELECT entries FROM context_memos WHERE dir = ?").get(this.key) as { entries: Uint8Array } | null;
    const stored = row ? decode(row.entries) : undefined;
    if (!stored) return;
    this.stored = stored;
    this.seen = new Uint8Array(stored.paths.length);
    stored.paths.forEach((p, i) => this.index.set(p, i));
  }

  /** The memoized digest of `path`, if it is under the directory and its identity and times still match. */
  get(path: string, st: MemoStat): string | undefined {
    const rel = this.relative(path);
    if (rel === undefined) return undefined;
    const learned = this.dirty.get(rel);
    if (learned) return sameEntry(learned.numbers, 0, st) ? learned.digest : undefined;
    const i = this.index.get(rel);
    if (i === undefined) return undefined;
    this.seen[i] = 1;
    return sameEntry(this.stored.numbers, i * FIELDS, st) ? this.stored.digests[i] : undefined;
  }

  set(path: string, st: MemoStat, digest: string, nowMs: number): void {
    const rel = this.relative(path);
    if (rel === undefined || isRacy(st, nowMs)) return;
    this.dirty.set(rel, { numbers: numbersOf(st), digest });
  }

  /**
   * Writes the directory's entries as one row when something was learned: what was stored and still
   * holds (an entry not looked up this time is kept while its file exists), then what is new.
   */
  flush(): void {
    if (this.dirty.size === 0) return;
    const { paths, numbers, digests } = this.stored;
    const keep: Stored = { paths: [], numbers: new Float64Array((paths.length + this.dirty.size) * FIELDS), digests: [] };
    const add = (path: string, nums: ArrayLike<number>, digest: string) => {
      keep.numbers.set(nums, keep.paths.length * FIELDS);
      keep.paths.push(path);
      keep.digests.push(digest);
    };
    paths.forEach((p, i) => {
      if (this.dirty.has(p) || (!this.seen[i] && !existsSync(`${this.dir}/${p}`))) return;
      add(p, numbers.subarray(i * FIELDS, (i + 1) * FIELDS), digests[i] as string);
    });
    for (const [p, e] of this.dirty) add(p, e.numbers, e.digest);
    const blob = encode({ ...keep, numbers: keep.numbers.subarray(0, keep.paths.length * FIELDS) });
    this.db.query("INSERT OR REPLACE INTO context_memos (dir, entries) VALUES (?, ?)").run(this.key, blob);
    this.dirty.clear();
  }

  private relative(path: string): string | undefined {
    return path.length > this.dir.length + 1 && path.startsWith(this.dir) && path[this.dir.length] === "/" ? path.slice(this.dir.length + 1) : undefined;
  }
}

function encode({ paths, numbers, digests }: Stored): Uint8Array {
  const pathBytes = Buffer.from(paths.join("\0"), "utf8");
  const digestBytes = Buffer.from(digests.join("\0"), "utf8");
  const out = Buffer.alloc(HEADER + numbers.byteLength + pathBytes.length + digestBytes.length);
  out.writeUInt32LE(VERSION, 0);
  out.writeUInt32LE(paths.length, 4);
  out.writeUInt32LE(pathBytes.length, 8);
  out.writeUInt32LE(digestBytes.length, 12);
  out.set(new Uint8Array(numbers.buffer, numbers.byteOffset, numbers.byteLength), HEADER);
  pathBytes.copy(out, HEADER + numbers.byteLength);
  digestBytes.copy(out, HEADER + numbers.byteLength + pathBytes.length);
  return out;
}

/** The stored entries; undefined for a blob of another version or a damaged one (the memo then starts empty). */
function decode(blob: Uint8Array): Stored | undefined {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (b.length < HEADER || b.readUInt32LE(0) !== VERSION) return undefined;
  const count = b.readUInt32LE(4);
  const numbersEnd = HEADER + count * FIELDS * 8;
  const pathsEnd = numbersEnd + b.readUInt32LE(8);
  if (count === 0 || pathsEnd + b.readUInt32LE(12) !== b.length) return undefined;
  // A view where the bytes are 8-aligned (as SQLite hands a blob here), else a copy.
  const at = b.byteOffset + HEADER;
  const numbers = at % 8 === 0 ? new Float64Array(b.buffer, at, count * FIELDS) : new Float64Array(b.buffer.slice(at, b.byteOffset + numbersEnd));
  const paths = b.toString("utf8", numbersEnd, pathsEnd).split("\0");
  const digests = b.toString("utf8", pathsEnd).split("\0");
  return paths.length === count && digests.length === count ? { paths, numbers, digests } : undefined;
}
