// Claims on work in progress, shared by every kitbuild process on a cache root: the process that
// claims a cache key builds it; another that wants the same key waits for its result instead of
// doing the work twice. A claim whose process died is taken over.
import type { Database, Statement } from "bun:sqlite";
import { type IsAlive, ownerCheck } from "./processes.ts";

export class Claims {
  private readonly isAlive: IsAlive;
  private readonly select: Statement;
  private readonly insert: Statement;
  private readonly remove: Statement;

  constructor(
    private readonly db: Database,
    isAlive: IsAlive,
  ) {
    // A pid some other process reuses does not keep a dead process's rows.
    this.isAlive = ownerCheck(db, isAlive);
    this.select = db.query("SELECT pid FROM claims WHERE key = ?");
    this.insert = db.query("INSERT OR REPLACE INTO claims (key, pid, started) VALUES (?, ?, ?)");
    this.remove = db.query("DELETE FROM claims WHERE key = ? AND pid = ?");
  }

  /** Claims `key` for this process; returns the live holder's pid instead when someone else has it. */
  tryClaim(key: string): number | undefined {
    return this.db.transaction(() => {
      const row = this.select.get(key) as { pid: number } | null;
      if (row && row.pid !== process.pid && this.isAlive(row.pid)) return row.pid;
      this.insert.run(key, process.pid, Date.now());
      return undefined;
    }).immediate();
  }

  release(key: string): void {
    this.remove.run(key, process.pid);
  }

  /** Drops the claims of processes that are gone. */
  sweep(): void {
    const rows = this.db.query("SELECT key, pid FROM claims").all() as Array<{ key: string; pid: number }>;
    for (const r of rows) if (!this.isAlive(r.pid)) this.db.query("DELETE FROM claims WHERE key = ? AND pid = ?").run(r.key, r.pid);
  }
}
