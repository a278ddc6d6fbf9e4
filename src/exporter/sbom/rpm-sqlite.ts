// Opening an image's rpmdb.sqlite without touching the image: the database is read whole and opened
// from memory (never by path: sqlite would follow a symlink on the host and create -shm files in the
// image). rpm leaves it in WAL mode; a WAL-mode file cannot be opened from memory, so its header is
// switched to rollback mode in the copy. When the image also holds a non-empty -wal file (rpm was
// not closed cleanly), both are copied to a private temp directory so sqlite applies the WAL.
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import type { RootFiles } from "./root-files.ts";

/** The header blobs of the Packages table in rowid order, or the reason they cannot be read. */
export function rpmHeaderBlobs(files: RootFiles, path: string): Uint8Array[] | { reason: string } {
  const bytes = files.readBytes(path);
  if (bytes === undefined) return { reason: "not a readable file" };
  const wal = files.readBytes(`${path}-wal`);
  try {
    return wal !== undefined && wal.length > 0 ? fromCopies(bytes, wal) : fromMemory(bytes);
  } catch {
    return { reason: "not an rpm sqlite database kitbuild can read" };
  }
}

function fromMemory(bytes: Uint8Array): Uint8Array[] {
  if (bytes.length >= 20) {
    bytes[18] = 1;
    bytes[19] = 1;
  }
  const db = Database.deserialize(bytes, true);
  try {
    return blobsOf(db);
  } finally {
    db.close();
  }
}

function fromCopies(bytes: Uint8Array, wal: Uint8Array): Uint8Array[] {
  const dir = mkdtempSync(`${tmpdir()}/kitbuild-rpmdb-`);
  try {
    writeFileSync(`${dir}/rpmdb.sqlite`, bytes);
    writeFileSync(`${dir}/rpmdb.sqlite-wal`, wal);
    const db = new Database(`${dir}/rpmdb.sqlite`);
    try {
      return blobsOf(db);
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function blobsOf(db: Database): Uint8Array[] {
  const rows = db.query("SELECT blob FROM Packages ORDER BY hnum").all() as { blob: unknown }[];
  return rows.map((r) => r.blob).filter((b): b is Uint8Array => b instanceof Uint8Array);
}
