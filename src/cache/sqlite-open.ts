// Opening the cache index's SQLite file when several kitbuild processes may be creating it at once.
import type { Database } from "bun:sqlite";
import { errnoCode } from "../util/errors.ts";

const BUSY_RETRIES = 300;

/**
 * Puts the database in WAL mode. The mode is stored in the file, so only a new index switches; and
 * SQLite takes the lock for that switch without waiting on the busy timeout, so processes creating
 * the index at the same moment got "database is locked" (the e2e tests starting several builds on
 * a fresh cache root failed that way now and then). A busy switch is retried after a short sleep.
 */
export function enableWal(db: Database): void {
  for (let attempt = 0; ; attempt++) {
    try {
      const row = db.query("PRAGMA journal_mode").get() as { journal_mode: string } | null;
      if (row?.journal_mode?.toLowerCase() !== "wal") db.exec("PRAGMA journal_mode = WAL");
      return;
    } catch (e) {
      if (errnoCode(e) !== "SQLITE_BUSY" || attempt >= BUSY_RETRIES) throw e;
      // 10 to 30 ms, jittered so the processes do not retry in step.
      Bun.sleepSync(10 + Math.random() * 20);
    }
  }
}
