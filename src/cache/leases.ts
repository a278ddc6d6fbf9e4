// Leases: the snapshots a running build holds (results it loaded or made), so that a prune in
// another process never removes them. A lease ends with its build, or with its process.
import type { Database, Statement } from "bun:sqlite";
import { type IsAlive, ownerCheck } from "./processes.ts";

export class Leases {
  private readonly isAlive: IsAlive;
  private readonly insert: Statement;

  constructor(
    private readonly db: Database,
    isAlive: IsAlive,
  ) {
    // A pid some other process reuses does not keep a dead process's rows.
    this.isAlive = ownerCheck(db, isAlive);
    this.insert = db.query("INSERT OR IGNORE INTO leases (pid, snapshot) VALUES (?, ?)");
  }

  hold(snapshots: readonly number[]): void {
    if (snapshots.length === 0) return;
    this.db.transaction(() => {
      for (const s of snapshots) this.insert.run(process.pid, s);
    }).immediate();
  }

  /** Ends every lease of this process. */
  releaseAll(): void {
    this.db.query("DELETE FROM leases WHERE pid = ?").run(process.pid);
  }

  /** Snapshots held by live processes; leases of dead ones are removed on the way. */
  held(): Set<number> {
    const rows = this.db.query("SELECT pid, snapshot FROM leases").all() as Array<{ pid: number; snapshot: number }>;
    const out = new Set<number>();
    const dead = new Set<number>();
    for (const r of rows) {
      if (dead.has(r.pid)) continue;
      if (r.pid === process.pid || this.isAlive(r.pid)) out.add(r.snapshot);
      else dead.add(r.pid);
    }
    for (const pid of dead) this.db.query("DELETE FROM leases WHERE pid = ?").run(pid);
    return out;
  }
}
