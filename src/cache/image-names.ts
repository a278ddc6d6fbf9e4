// kitbuild's image store, as rows of the cache index: every kept image (by manifest digest, with its
// config digest, the image ID) and the names pointing at them, normalized as docker normalizes them
// ("docker.io/library/base:latest"). The manifest, config and layer blobs are in the content store;
// an image without a name is "dangling", as in docker. Moving a name is one transaction, so a
// concurrent build sees the old image or the new one, never none.
import type { Database } from "bun:sqlite";

/** Their DDL, also part of the schema's fingerprint (schema.ts). */
export const IMAGE_TABLES = `
CREATE TABLE IF NOT EXISTS stored_images (
  manifest TEXT PRIMARY KEY,
  config TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS image_names (
  name TEXT PRIMARY KEY,
  manifest TEXT NOT NULL REFERENCES stored_images(manifest)
);
CREATE INDEX IF NOT EXISTS image_names_manifest ON image_names (manifest);
`;

/** Creates the tables when the cache root predates the image store. */
export function ensureImageTables(db: Database): void {
  db.exec(IMAGE_TABLES);
}

export type StoredImage = {
  manifest: string;
  /** The config digest: docker's image ID. */
  config: string;
  mediaType: string;
  /** Bytes of the manifest, config and layer blobs. */
  size: number;
  /** The image's creation time (its config's), milliseconds since the epoch. */
  created: number;
};

export type ImageRow = StoredImage & { names: string[] };

type Row = { manifest: string; config: string; media_type: string; size: number; created: number };

function fromRow(r: Row): StoredImage {
  return { manifest: r.manifest, config: r.config, mediaType: r.media_type, size: r.size, created: r.created };
}

/**
 * Keeps `image` under `names` (normalized references); each name moves from whatever image it named
 * before (which stays, dangling, when nothing else names it).
 */
export function keepImage(db: Database, image: StoredImage, names: readonly string[]): void {
  db.transaction(() => {
    db.query(
      "INSERT INTO stored_images (manifest, config, media_type, size, created) VALUES (?, ?, ?, ?, ?) ON CONFLICT (manifest) DO NOTHING",
    ).run(image.manifest, image.config, image.mediaType, image.size, image.created);
    const put = db.query("INSERT OR REPLACE INTO image_names (name, manifest) VALUES (?, ?)");
    for (const name of names) put.run(name, image.manifest);
  }).immediate();
}

/** The image a normalized name points at. */
export function imageByName(db: Database, name: string): StoredImage | undefined {
  const row = db.query("SELECT i.* FROM image_names n JOIN stored_images i ON i.manifest = n.manifest WHERE n.name = ?").get(name) as Row | null;
  return row ? fromRow(row) : undefined;
}

export function imageByManifest(db: Database, manifest: string): StoredImage | undefined {
  const row = db.query("SELECT * FROM stored_images WHERE manifest = ?").get(manifest) as Row | null;
  return row ? fromRow(row) : undefined;
}

/** Every kept image with its names (none: dangling), newest first. */
export function listImages(db: Database): ImageRow[] {
  const rows = db.query("SELECT * FROM stored_images ORDER BY created DESC, manifest").all() as Row[];
  const names = db.query("SELECT name, manifest FROM image_names ORDER BY name").all() as Array<{ name: string; manifest: string }>;
  const byManifest = new Map<string, string[]>();
  for (const n of names) byManifest.set(n.manifest, [...(byManifest.get(n.manifest) ?? []), n.name]);
  return rows.map((r) => ({ ...fromRow(r), names: byManifest.get(r.manifest) ?? [] }));
}

/** Removes a name; returns whether it existed. */
export function removeName(db: Database, name: string): boolean {
  return db.query("DELETE FROM image_names WHERE name = ?").run(name).changes > 0;
}

/** Forgets an image and its names (its blobs become garbage for prune, unless another image lists them). */
export function removeImage(db: Database, manifest: string): void {
  db.transaction(() => {
    db.query("DELETE FROM image_names WHERE manifest = ?").run(manifest);
    db.query("DELETE FROM stored_images WHERE manifest = ?").run(manifest);
  }).immediate();
}

/** Forgets every image no name points at; returns their manifest digests. */
export function removeDangling(db: Database): string[] {
  return db.transaction(() => {
    const rows = db.query("SELECT manifest FROM stored_images WHERE manifest NOT IN (SELECT manifest FROM image_names)").all() as Array<{ manifest: string }>;
    db.query("DELETE FROM stored_images WHERE manifest NOT IN (SELECT manifest FROM image_names)").run();
    return rows.map((r) => r.manifest);
  }).immediate();
}
