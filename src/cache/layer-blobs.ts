// Which blob holds a snapshot's layer: as pulled from a registry, or as an export compressed it
// (keyed by the settings that decide the bytes), so layers are compressed once and base layers are
// reused exactly as pulled.
import type { Database } from "bun:sqlite";

export type LayerBlob = { mediaType: string; digest: string; size: number; diffId: string; source?: string };

/** The variant of a layer as pulled (its bytes are the registry's). */
export const PULLED = "pulled";

export function getLayerBlob(db: Database, snapshot: number, variant: string): LayerBlob | undefined {
  const row = db
    .query("SELECT media_type, digest, size, diff_id, source FROM layer_blobs WHERE snapshot = ? AND variant = ?")
    .get(snapshot, variant) as { media_type: string; digest: string; size: number; diff_id: string; source: string | null } | null;
  if (!row) return undefined;
  const blob: LayerBlob = { mediaType: row.media_type, digest: row.digest, size: row.size, diffId: row.diff_id };
  if (row.source) blob.source = row.source;
  return blob;
}

export function putLayerBlob(db: Database, snapshot: number, variant: string, blob: LayerBlob): void {
  db.query("INSERT OR REPLACE INTO layer_blobs (snapshot, variant, media_type, digest, size, diff_id, source) VALUES (?, ?, ?, ?, ?, ?, ?)").run(
    snapshot, variant, blob.mediaType, blob.digest, blob.size, blob.diffId, blob.source ?? null,
  );
}
