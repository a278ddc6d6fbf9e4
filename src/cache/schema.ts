// The cache index's tables, created or upgraded in place when a cache root is opened. Upgrades only
// add tables and columns, so an older kitbuild can still read what it knows.
import type { Database } from "bun:sqlite";
import { ensureImageTables, IMAGE_TABLES } from "./image-names.ts";
import { ensureMergeTable, MERGE_TABLE } from "./merges.ts";
import { ensureProcessTable, PROCESS_TABLE } from "./processes.ts";

const TABLES = `
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
-- Checksum digests of context entries, valid while the entry's identity and times are unchanged.
-- (It replaced file_hashes, which held content digests only.)
CREATE TABLE IF NOT EXISTS entry_digests (
  path TEXT PRIMARY KEY,
  dev TEXT NOT NULL,
  ino TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime TEXT NOT NULL,
  ctime TEXT NOT NULL,
  digest TEXT NOT NULL
);
-- The entry digests of a context directory as one blob, left for older versions like entry_digests
-- above: cache/file-hashes.ts now keeps them in a file per directory, mapped instead of copied.
CREATE TABLE IF NOT EXISTS context_memos (dir TEXT PRIMARY KEY, entries BLOB NOT NULL);
-- Work in progress in some process, so another process can wait for it instead of repeating it.
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, pid INTEGER NOT NULL, started INTEGER NOT NULL);
-- Snapshots a running build holds; prune never removes them.
CREATE TABLE IF NOT EXISTS leases (
  pid INTEGER NOT NULL,
  snapshot INTEGER NOT NULL,
  PRIMARY KEY (pid, snapshot)
);
-- What each result's cache key was made of, by step, to explain later misses (--debug-cache).
CREATE TABLE IF NOT EXISTS key_records (
  key TEXT PRIMARY KEY,
  step TEXT NOT NULL,
  created INTEGER NOT NULL,
  record BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS key_records_step ON key_records (step, created);
-- Layer blobs of snapshots: as pulled ("pulled"), or as exported with given settings, so an image
-- export reuses them instead of diffing and compressing again.
CREATE TABLE IF NOT EXISTS layer_blobs (
  snapshot INTEGER NOT NULL REFERENCES snapshots(id),
  variant TEXT NOT NULL,
  media_type TEXT NOT NULL,
  digest TEXT NOT NULL,
  size INTEGER NOT NULL,
  diff_id TEXT NOT NULL,
  PRIMARY KEY (snapshot, variant)
);
CREATE INDEX IF NOT EXISTS snapshots_parent ON snapshots (parent);
CREATE INDEX IF NOT EXISTS results_snapshot ON results (snapshot);
`;

/** Columns added after a table first shipped: [table, column, definition]. */
const ADDED_COLUMNS: Array<[string, string, string]> = [
  ["snapshots", "size", "INTEGER"],
  // The repository a pulled layer came from ("registry/path"), for cross-repository mounts on push.
  ["layer_blobs", "source", "TEXT"],
];

/**
 * The schema this kitbuild makes, as a positive 31-bit number, kept in SQLite's user_version once
 * an index has it: every open ran all of the DDL below (the migration took 0.85 ms, now 0.5 with
 * this check, mostly the transaction's start). Made from the DDL itself, so a changed table or
 * column cannot be skipped by mistake.
 * Upgrades only add, so an index another version migrated last is migrated again, harmlessly.
 */
const FINGERPRINT = (Bun.hash.crc32([TABLES, MERGE_TABLE, PROCESS_TABLE, IMAGE_TABLES, JSON.stringify(ADDED_COLUMNS)].join("\0")) & 0x7fffffff) || 1;

export function migrate(db: Database): void {
  const { user_version } = db.query("PRAGMA user_version").get() as { user_version: number };
  if (user_version === FINGERPRINT) return;
  db.exec(TABLES);
  ensureMergeTable(db);
  ensureProcessTable(db);
  // Schema 3: kitbuild's image store (stored_images, image_names).
  ensureImageTables(db);
  for (const [table, column, def] of ADDED_COLUMNS) {
    const cols = db.query(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>;
    if (!cols.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${def}`);
  }
  db.query("INSERT OR REPLACE INTO meta (k, v) VALUES ('schema', '3')").run();
  db.exec(`PRAGMA user_version = ${FINGERPRINT}`);
}
