// The index's schema is created or upgraded when a cache root is opened, and an index this very
// schema migrated last is not migrated again (its fingerprint is kept in SQLite's user_version).
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { CacheIndex } from "../../src/cache/index.ts";
import { tempDir } from "../harness.ts";

const userVersion = (db: Database) => (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
const hasIndex = (db: Database, name: string) => db.query("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?").get(name) !== null;
const columns = (db: Database, table: string) => (db.query(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);

function openAndClose(path: string): void {
  new CacheIndex(path).close();
}

/**
 * A new index, changed by `sql` behind kitbuild's back and opened again: the fingerprint the first
 * open recorded, and whether the DDL made key_records_step again.
 */
function reopenedAfter(sql: string): { fingerprint: number; version: number; remade: boolean } {
  const path = `${tempDir()}/index.db`;
  openAndClose(path);
  const db = new Database(path);
  const fingerprint = userVersion(db);
  db.exec(sql);
  db.close();
  openAndClose(path);
  const after = new Database(path);
  try {
    return { fingerprint, version: userVersion(after), remade: hasIndex(after, "key_records_step") };
  } finally {
    after.close();
  }
}

describe("cache index schema", () => {
  test("a new index records its schema's fingerprint; opening it again runs no DDL", () => {
    // Something only the DDL would make again: skipped while the fingerprint matches.
    const { fingerprint, version, remade } = reopenedAfter("DROP INDEX key_records_step");
    expect(fingerprint).toBeGreaterThan(0);
    expect(version).toBe(fingerprint);
    expect(remade).toBe(false);
  });

  test("an index another schema migrated last (an older kitbuild's) is migrated again", () => {
    const { fingerprint, version, remade } = reopenedAfter("DROP INDEX key_records_step; PRAGMA user_version = 7");
    expect(version).toBe(fingerprint);
    expect(remade).toBe(true);
  });

  test("an index from before the added columns gains them", () => {
    const path = `${tempDir()}/index.db`;
    const old = new Database(path, { create: true });
    old.exec(`CREATE TABLE snapshots (id INTEGER PRIMARY KEY AUTOINCREMENT, parent INTEGER, state TEXT NOT NULL,
      kind TEXT NOT NULL, owner_pid INTEGER, created INTEGER NOT NULL, last_used INTEGER NOT NULL)`);
    old.close();
    openAndClose(path);
    const after = new Database(path);
    expect(columns(after, "snapshots")).toContain("size");
    expect(columns(after, "layer_blobs")).toContain("source");
    after.close();
  });
});
