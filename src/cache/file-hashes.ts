// A persistent memo of context entry digests, so a rebuild reads only files that changed. An entry
// is trusted only while the file's device, inode, size, mtime and ctime (nanoseconds) are all
// unchanged: ctime catches a rewrite that keeps size and mtime (touch -r, rsync -t, cp -p),
// which BuildKit's own memo misses (moby/buildkit#4817).
import type { Database, Statement } from "bun:sqlite";
import type { BigIntStats } from "node:fs";

/** Stored as text (SQLite integers are 64-bit signed), compared as bigints. */
type Row = { path: string; dev: string; ino: string; size: number; mtime: string; ctime: string; digest: string };
type Entry = { dev: bigint; ino: bigint; size: bigint; mtime: bigint; ctime: bigint; digest: string };

/**
 * Timestamps are only as fine as the kernel's clock tick (a few ms), or a whole second on coarse
 * filesystems (whose times have no nanoseconds): a file changed again within the same tick as it was
 * hashed could keep its times. Such "racy" files are not remembered, and are hashed again next time.
 */
const RACY_WINDOW_NS = 100_000_000n;
const COARSE_RACY_WINDOW_NS = 2_000_000_000n;

function isRacy(st: BigIntStats, nowNs: bigint): boolean {
  const coarse = st.mtimeNs % 1_000_000_000n === 0n && st.ctimeNs % 1_000_000_000n === 0n;
  const window = coarse ? COARSE_RACY_WINDOW_NS : RACY_WINDOW_NS;
  return nowNs - st.mtimeNs < window || nowNs - st.ctimeNs < window;
}

export class FileHashMemo {
  private readonly entries = new Map<string, Entry>();
  private readonly dirty = new Map<string, Entry>();
  private readonly load: Statement;
  private readonly upsert: Statement;

  constructor(private readonly db: Database) {
    this.load = db.query("SELECT path, dev, ino, size, mtime, ctime, digest FROM entry_digests WHERE path >= ? AND path < ?");
    this.upsert = db.query(
      "INSERT OR REPLACE INTO entry_digests (path, dev, ino, size, mtime, ctime, digest) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
  }

  /** Loads the entries under a directory in one query (a context has many files). */
  preload(dir: string): void {
    const rows = this.load.all(`${dir}/`, `${dir}0`) as Row[];
    for (const r of rows) {
      this.entries.set(r.path, { dev: BigInt(r.dev), ino: BigInt(r.ino), size: BigInt(r.size), mtime: BigInt(r.mtime), ctime: BigInt(r.ctime), digest: r.digest });
    }
  }

  /** The memoized digest of `path`, if its identity and times still match. */
  get(path: string, st: BigIntStats): string | undefined {
    const e = this.entries.get(path);
    if (!e) return undefined;
    const same = e.dev === st.dev && e.ino === st.ino && e.size === st.size && e.mtime === st.mtimeNs && e.ctime === st.ctimeNs;
    return same ? e.digest : undefined;
  }

  set(path: string, st: BigIntStats, digest: string, nowNs: bigint): void {
    if (isRacy(st, nowNs)) return;
    const e: Entry = { dev: st.dev, ino: st.ino, size: st.size, mtime: st.mtimeNs, ctime: st.ctimeNs, digest };
    this.entries.set(path, e);
    this.dirty.set(path, e);
  }

  /** Writes new entries in one transaction. */
  flush(): void {
    if (this.dirty.size === 0) return;
    this.db.transaction(() => {
      for (const [path, e] of this.dirty) {
        this.upsert.run(path, String(e.dev), String(e.ino), Number(e.size), String(e.mtime), String(e.ctime), e.digest);
      }
    }).immediate();
    this.dirty.clear();
  }
}
