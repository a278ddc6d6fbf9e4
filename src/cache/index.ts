// The cache index: one bun:sqlite database (WAL) per cache root recording snapshots, the layer
// snapshots of pulled images (by chain id) and build results (by cache key). Several kitbuild
// processes share it; SQLite's locking serializes their writes, and a row is only ever written once
// the data it points at is complete, so a crash leaves no record pointing at partial data.
import { Database, type Statement } from "bun:sqlite";

export type SnapshotState = "active" | "committed";

export type SnapshotRecord = {
  id: number;
  parent: number | null;
  state: SnapshotState;
  kind: string;
  owner_pid: number | null;
  created: number;
  last_used: number;
};

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS snapshots (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  parent INTEGER REFERENCES snapshots(id),
  state TEXT NOT NULL,
  kind TEXT NOT NULL,
  owner_pid INTEGER,
  created INTEGER NOT NULL,
  last_used INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS layer_snapshots (
  chain_id TEXT PRIMARY KEY,
  snapshot INTEGER NOT NULL REFERENCES snapshots(id),
  diff_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
  key TEXT NOT NULL,
  output INTEGER NOT NULL,
  snapshot INTEGER NOT NULL REFERENCES snapshots(id),
  description TEXT,
  created INTEGER NOT NULL,
  last_used INTEGER NOT NULL,
  PRIMARY KEY (key, output)
);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
`;

export class CacheIndex {
  readonly db: Database;
  private readonly stmts: {
    insertSnapshot: Statement;
    commitSnapshot: Statement;
    getSnapshot: Statement;
    deleteSnapshot: Statement;
    touchSnapshot: Statement;
    getLayer: Statement;
    putLayer: Statement;
    getResults: Statement;
    putResult: Statement;
    touchResults: Statement;
  };

  constructor(path: string) {
    this.db = new Database(path, { create: true, strict: true });
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
    this.db.transaction(() => {
      this.db.exec(SCHEMA);
      this.db.query("INSERT OR IGNORE INTO meta (k, v) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
    }).immediate();
    this.stmts = {
      insertSnapshot: this.db.query(
        "INSERT INTO snapshots (parent, state, kind, owner_pid, created, last_used) VALUES (?, 'active', ?, ?, ?, ?) RETURNING id",
      ),
      commitSnapshot: this.db.query("UPDATE snapshots SET state = 'committed', owner_pid = NULL WHERE id = ? AND state = 'active'"),
      getSnapshot: this.db.query("SELECT * FROM snapshots WHERE id = ?"),
      deleteSnapshot: this.db.query("DELETE FROM snapshots WHERE id = ?"),
      touchSnapshot: this.db.query("UPDATE snapshots SET last_used = ? WHERE id = ?"),
      getLayer: this.db.query("SELECT snapshot FROM layer_snapshots WHERE chain_id = ?"),
      putLayer: this.db.query("INSERT OR IGNORE INTO layer_snapshots (chain_id, snapshot, diff_id) VALUES (?, ?, ?)"),
      getResults: this.db.query("SELECT output, snapshot FROM results WHERE key = ? ORDER BY output"),
      putResult: this.db.query(
        "INSERT OR IGNORE INTO results (key, output, snapshot, description, created, last_used) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      touchResults: this.db.query("UPDATE results SET last_used = ? WHERE key = ?"),
    };
  }

  close(): void {
    this.db.close();
  }

  /** Records a new writable snapshot owned by this process; its directory is created after this. */
  createSnapshot(parent: number | null, kind: string): number {
    const now = Date.now();
    const row = this.stmts.insertSnapshot.get(parent, kind, process.pid, now, now) as { id: number };
    return row.id;
  }

  commitSnapshot(id: number): void {
    this.stmts.commitSnapshot.run(id);
  }

  getSnapshot(id: number): SnapshotRecord | undefined {
    return (this.stmts.getSnapshot.get(id) as SnapshotRecord | null) ?? undefined;
  }

  deleteSnapshot(id: number): void {
    this.stmts.deleteSnapshot.run(id);
  }

  touchSnapshot(id: number): void {
    this.stmts.touchSnapshot.run(Date.now(), id);
  }

  /** The snapshot ids from `id` down to its base layer. */
  chain(id: number): number[] {
    const out: number[] = [];
    let cur: number | null = id;
    while (cur !== null) {
      const rec = this.getSnapshot(cur);
      if (!rec) throw new Error(`snapshot ${cur} is missing from the cache index`);
      out.push(rec.id);
      cur = rec.parent;
    }
    return out;
  }

  /** Active snapshots whose owning process is gone (left by a crash). */
  orphanedActive(isAlive: (pid: number) => boolean): SnapshotRecord[] {
    const rows = this.db.query("SELECT * FROM snapshots WHERE state = 'active'").all() as SnapshotRecord[];
    return rows.filter((r) => r.owner_pid === null || !isAlive(r.owner_pid));
  }

  layerSnapshot(chainId: string): number | undefined {
    const row = this.stmts.getLayer.get(chainId) as { snapshot: number } | null;
    return row?.snapshot;
  }

  /** Records the snapshot of a layer chain; returns the one that wins if another process raced us. */
  putLayerSnapshot(chainId: string, snapshot: number, diffId: string): number {
    this.stmts.putLayer.run(chainId, snapshot, diffId);
    return this.layerSnapshot(chainId) ?? snapshot;
  }

  results(key: string): Array<{ output: number; snapshot: number }> {
    return this.stmts.getResults.all(key) as Array<{ output: number; snapshot: number }>;
  }

  putResults(key: string, snapshots: Array<{ output: number; snapshot: number }>, description: string): void {
    const now = Date.now();
    this.db.transaction(() => {
      for (const r of snapshots) this.stmts.putResult.run(key, r.output, r.snapshot, description, now, now);
    }).immediate();
  }

  touchResults(key: string): void {
    this.stmts.touchResults.run(Date.now(), key);
  }
}
