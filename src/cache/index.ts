// The cache index: one bun:sqlite database (WAL) per cache root recording snapshots, the layer
// snapshots of pulled images (by chain id) and build results (by cache key). Several kitbuild
// processes share it; SQLite's locking serializes their writes, and a row is only ever written once
// the data it points at is complete, so a crash leaves no record pointing at partial data.
import { Database, type Statement } from "bun:sqlite";
import { migrate } from "./schema.ts";
import { enableWal } from "./sqlite-open.ts";
import { type IsAlive, ownerCheck, registerProcess, unregisterProcess } from "./processes.ts";
import { KitError } from "../util/errors.ts";
import { isProcessAlive } from "../util/process.ts";
import { writeFailure } from "../util/write-errors.ts";

export type SnapshotState = "active" | "committed" | "deleting";

export type SnapshotRecord = {
  id: number;
  parent: number | null;
  state: SnapshotState;
  kind: string;
  owner_pid: number | null;
  created: number;
  last_used: number;
  size: number | null;
};

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
    try {
      // The busy timeout first: switching to WAL takes a lock that another process may hold.
      this.db.exec("PRAGMA busy_timeout = 30000;");
      enableWal(this.db);
      this.db.exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
      // Registering releases what dead processes held (leases, claims, unfinished snapshots' owners),
      // so nothing a killed kitbuild left protects garbage, whoever has its pid now.
      this.db.transaction(() => {
        migrate(this.db);
        registerProcess(this.db, isProcessAlive);
      }).immediate();
    } catch (e) {
      this.db.close();
      // A full or read-only cache root says so (SQLite must write to open the index).
      throw writeFailure(e, { path, area: "cache root" });
    }
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
    try {
      unregisterProcess(this.db);
    } catch {
      // A read-only or full disk: the next process finds the row dead.
    }
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
      if (!rec) throw new KitError("E_CACHE_CORRUPT", `snapshot ${cur} is missing from the cache index`, { hint: "run kitbuild prune -af to start the cache afresh" });
      out.push(rec.id);
      cur = rec.parent;
    }
    return out;
  }

  /**
   * Snapshots left by a crash: active ones whose owner is gone, and ones a prune had started to
   * delete (a "deleting" snapshot is never used again, whoever marked it).
   */
  orphanedActive(isAlive: IsAlive): SnapshotRecord[] {
    const alive = ownerCheck(this.db, isAlive);
    const rows = this.db.query("SELECT * FROM snapshots WHERE state IN ('active', 'deleting')").all() as SnapshotRecord[];
    return rows.filter((r) => r.state === "deleting" || r.owner_pid === null || !alive(r.owner_pid));
  }

  allSnapshots(): SnapshotRecord[] {
    return this.db.query("SELECT * FROM snapshots ORDER BY id").all() as SnapshotRecord[];
  }

  setSnapshotSize(id: number, size: number): void {
    this.db.query("UPDATE snapshots SET size = ? WHERE id = ?").run(size, id);
  }

  /** The step names of the results kept in each snapshot (for du --verbose). */
  descriptions(): Map<number, string> {
    const rows = this.db.query("SELECT snapshot, description FROM results WHERE description IS NOT NULL").all() as Array<{ snapshot: number; description: string }>;
    return new Map(rows.map((r) => [r.snapshot, r.description]));
  }

  /**
   * Marks a snapshot for deletion and drops every record that points at it, in one transaction
   * that re-checks (against concurrent builds) that no live process holds it and nothing is stacked
   * on it. Returns false, changing nothing, when it is no longer free to go.
   */
  beginDelete(id: number, isAlive: IsAlive): boolean {
    const alive = ownerCheck(this.db, isAlive);
    return this.db.transaction(() => {
      const holders = this.db.query("SELECT pid FROM leases WHERE snapshot = ?").all(id) as Array<{ pid: number }>;
      if (holders.some((h) => alive(h.pid))) return false;
      const child = this.db.query("SELECT 1 FROM snapshots WHERE parent = ? AND state != 'deleting' LIMIT 1").get(id);
      if (child) return false;
      // A merge (COPY --link) stacking this snapshot needs it as much as a child does.
      const merge = this.db
        .query("SELECT 1 FROM snapshot_merges m JOIN snapshots s ON s.id = m.snapshot WHERE m.input = ? AND s.state != 'deleting' LIMIT 1")
        .get(id);
      if (merge) return false;
      const marked = this.db.query("UPDATE snapshots SET state = 'deleting' WHERE id = ? AND state = 'committed'").run(id);
      if (marked.changes === 0) return false;
      this.db.query("DELETE FROM results WHERE snapshot = ?").run(id);
      this.db.query("DELETE FROM layer_snapshots WHERE snapshot = ?").run(id);
      this.db.query("DELETE FROM layer_blobs WHERE snapshot = ?").run(id);
      this.db.query("DELETE FROM leases WHERE snapshot = ?").run(id);
      return true;
    }).immediate();
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
