// The inputs of merge snapshots (COPY --link), in the cache index's database: a merge stacks the
// layers of other snapshots, so those must outlive it. The foreign keys make SQLite refuse to drop
// an input's record while a merge lists it; removing a merge drops its rows first.
import type { Database } from "bun:sqlite";

/** Its DDL, also part of the schema's fingerprint (schema.ts). */
export const MERGE_TABLE = `
CREATE TABLE IF NOT EXISTS snapshot_merges (
  snapshot INTEGER NOT NULL REFERENCES snapshots(id),
  position INTEGER NOT NULL,
  input INTEGER NOT NULL REFERENCES snapshots(id),
  PRIMARY KEY (snapshot, position)
);
CREATE INDEX IF NOT EXISTS snapshot_merges_input ON snapshot_merges (input);
`;

/** Creates the table when the cache root predates it. */
export function ensureMergeTable(db: Database): void {
  db.exec(MERGE_TABLE);
}

export function setMergeInputs(db: Database, id: number, inputs: readonly number[]): void {
  db.transaction(() => {
    const insert = db.query("INSERT INTO snapshot_merges (snapshot, position, input) VALUES (?, ?, ?)");
    for (const [position, input] of inputs.entries()) insert.run(id, position, input);
  }).immediate();
}

/** The inputs of a merge snapshot, bottom first; empty for any other snapshot. */
export function mergeInputs(db: Database, id: number): number[] {
  const rows = db.query("SELECT input FROM snapshot_merges WHERE snapshot = ? ORDER BY position").all(id) as Array<{ input: number }>;
  return rows.map((r) => r.input);
}

/** The merges that stack `id` (they must be removed before it). */
export function mergesUsing(db: Database, id: number): number[] {
  const rows = db.query("SELECT DISTINCT snapshot FROM snapshot_merges WHERE input = ?").all(id) as Array<{ snapshot: number }>;
  return rows.map((r) => r.snapshot);
}

export function deleteMergeInputs(db: Database, id: number): void {
  db.query("DELETE FROM snapshot_merges WHERE snapshot = ?").run(id);
}
