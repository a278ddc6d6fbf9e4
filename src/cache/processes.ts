// The kitbuild processes that opened a cache root, by pid with their start time, so that the pids
// recorded in leases, claims, cache-mount holders and active snapshots can be checked against pid
// reuse: a recorded pid counts as alive only while the process with that pid is the one that
// registered it. A process registers when it opens the index; what a dead one left is released then.
import type { Database } from "bun:sqlite";
import { isSameProcessAlive, ownStartTime } from "../util/process-start.ts";

export type IsAlive = (pid: number) => boolean;

/** Its DDL, also part of the schema's fingerprint (schema.ts). */
export const PROCESS_TABLE = "CREATE TABLE IF NOT EXISTS processes (pid INTEGER PRIMARY KEY, start TEXT NOT NULL)";

export function ensureProcessTable(db: Database): void {
  db.exec(PROCESS_TABLE);
}

/**
 * `isAlive` (plain pid liveness) narrowed by the registry: a registered pid is alive only while its
 * start time matches. A pid that never registered (an older kitbuild) falls back to `isAlive`.
 */
export function ownerCheck(db: Database, isAlive: IsAlive): IsAlive {
  ensureProcessTable(db);
  const select = db.query("SELECT start FROM processes WHERE pid = ?");
  return (pid) => {
    if (!isAlive(pid)) return false;
    const row = select.get(pid) as { start: string } | null;
    return row === null || isSameProcessAlive(pid, row.start);
  };
}

/** Every table with a column naming the process that holds a row (created on demand elsewhere). */
const HOLDER_TABLES = ["leases", "claims", "cache_mount_holders"] as const;

/**
 * Releases what process `pid` held (it is dead): its leases, claims and cache-mount holds go, and
 * its unfinished snapshots lose their owner so the orphan sweep removes them.
 */
function releaseDead(db: Database, pid: number): void {
  for (const table of HOLDER_TABLES) {
    if (tableExists(db, table)) db.query(`DELETE FROM ${table} WHERE pid = ?`).run(pid);
  }
  db.query("UPDATE snapshots SET owner_pid = NULL WHERE owner_pid = ? AND state = 'active'").run(pid);
  db.query("DELETE FROM processes WHERE pid = ?").run(pid);
}

function tableExists(db: Database, name: string): boolean {
  return db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== null;
}

/**
 * Registers this process, first releasing what a dead process with the same pid left (its records
 * would otherwise look like ours), then what every other dead process left. Run in a transaction.
 */
export function registerProcess(db: Database, isAlive: IsAlive): void {
  const rows = db.query("SELECT pid, start FROM processes").all() as Array<{ pid: number; start: string }>;
  const check = ownerCheck(db, isAlive);
  for (const r of rows) {
    if (r.pid === process.pid ? r.start !== ownStartTime() : !check(r.pid)) releaseDead(db, r.pid);
  }
  // Holders that never registered (older kitbuild versions) and are gone.
  for (const table of HOLDER_TABLES) {
    if (!tableExists(db, table)) continue;
    const pids = db.query(`SELECT DISTINCT pid FROM ${table}`).all() as Array<{ pid: number }>;
    for (const { pid } of pids) if (pid !== process.pid && !check(pid)) db.query(`DELETE FROM ${table} WHERE pid = ?`).run(pid);
  }
  db.query("INSERT OR REPLACE INTO processes (pid, start) VALUES (?, ?)").run(process.pid, ownStartTime());
}


/** Whether another live kitbuild process has this cache root open (it may be about to use anything). */
export function othersOpen(db: Database, isAlive: IsAlive): boolean {
  const rows = db.query("SELECT pid, start FROM processes WHERE pid != ?").all(process.pid) as Array<{ pid: number; start: string }>;
  return rows.some((r) => isAlive(r.pid) && isSameProcessAlive(r.pid, r.start));
}

/** Ends this process's registration when it closes the index (its holds are released before). */
export function unregisterProcess(db: Database): void {
  db.query("DELETE FROM processes WHERE pid = ? AND start = ?").run(process.pid, ownStartTime());
}
