// A persistent memo of context entry digests, so a rebuild reads only files that changed. An entry
// is trusted only while the file's device, inode, size, mtime and ctime (nanoseconds) are all
// unchanged: ctime catches a rewrite that keeps size and mtime (touch -r, rsync -t, cp -p),
// which BuildKit's own memo misses (moby/buildkit#4817).
import type { Database, Statement } from "bun:sqlite";

/** What the memo needs of an entry's metadata (fs/entry-stat.ts's EntryStat has it). */
export type EntryIdentity = {
  /** Device, inode, size, mtime and ctime (ns) as "dev:ino:size:mtime:ctime". */
  identity: string;
  mtimeMs: number;
  ctimeMs: number;
  /** Both times are whole seconds (a filesystem with coarse times). */
  coarseTimes: boolean;
};

/**
 * The index stores an identity's parts as text (SQLite integers are 64-bit signed) and joins them
 * in SQL as EntryStat.identity does, so a context of many files loads without converting each part.
 */
const IDENTITY_SQL = "dev || ':' || ino || ':' || size || ':' || mtime || ':' || ctime";

type Entry = { identity: string; digest: string };

/**
 * Timestamps are only as fine as the kernel's clock tick (a few ms), or a whole second on coarse
 * filesystems (whose times have no nanoseconds): a file changed again within the same tick as it was
 * hashed could keep its times. Such "racy" files are not remembered, and are hashed again next time.
 */
const RACY_WINDOW_MS = 100;
const COARSE_RACY_WINDOW_MS = 2000;

function isRacy(st: EntryIdentity, nowMs: number): boolean {
  const window = st.coarseTimes ? COARSE_RACY_WINDOW_MS : RACY_WINDOW_MS;
  return nowMs - st.mtimeMs < window || nowMs - st.ctimeMs < window;
}

export class FileHashMemo {
  private readonly entries = new Map<string, Entry>();
  private readonly dirty = new Map<string, Entry>();
  private readonly load: Statement;
  private readonly upsert: Statement;

  constructor(private readonly db: Database) {
    this.load = db.query(`SELECT path, ${IDENTITY_SQL}, digest FROM entry_digests WHERE path >= ? AND path < ?`);
    this.upsert = db.query(
      "INSERT OR REPLACE INTO entry_digests (path, dev, ino, size, mtime, ctime, digest) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
  }

  /** Loads the entries under a directory in one query (a context has many files). */
  preload(dir: string): void {
    const rows = this.load.values(`${dir}/`, `${dir}0`) as Array<[string, string, string]>;
    for (const [path, identity, digest] of rows) this.entries.set(path, { identity, digest });
  }

  /** The memoized digest of `path`, if its identity and times still match. */
  get(path: string, st: EntryIdentity): string | undefined {
    const e = this.entries.get(path);
    return e && e.identity === st.identity ? e.digest : undefined;
  }

  set(path: string, st: EntryIdentity, digest: string, nowMs: number): void {
    if (isRacy(st, nowMs)) return;
    const e = { identity: st.identity, digest };
    this.entries.set(path, e);
    this.dirty.set(path, e);
  }

  /** Forgets the loaded entries (after a flush, once no more lookups come). */
  release(): void {
    this.entries.clear();
  }

  /** Writes new entries in one transaction. */
  flush(): void {
    if (this.dirty.size === 0) return;
    this.db.transaction(() => {
      for (const [path, { identity, digest }] of this.dirty) {
        const [dev, ino, size, mtime, ctime] = identity.split(":");
        this.upsert.run(path, dev ?? "", ino ?? "", Number(size), mtime ?? "", ctime ?? "", digest);
      }
    }).immediate();
    this.dirty.clear();
  }
}
