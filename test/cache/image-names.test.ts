// The image store's rows in the cache index: a name moves in one step and leaves its old image
// dangling; dangling images are the only ones removeDangling forgets; an index made before the
// image store gains its tables when opened.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { CacheIndex } from "../../src/cache/index.ts";
import { imageByManifest, imageByName, keepImage, listImages, removeDangling, removeImage, removeName } from "../../src/cache/image-names.ts";
import { tempDir } from "../harness.ts";

const image = (n: number) => ({ manifest: `sha256:${String(n).repeat(64).slice(0, 64)}`, config: `sha256:c${String(n).repeat(63).slice(0, 63)}`, mediaType: "application/vnd.docker.distribution.manifest.v2+json", size: 100 * n, created: 1000 * n });

describe("image names", () => {
  test("a name moved to a new image leaves the old one dangling; removeDangling forgets only untagged images", () => {
    const index = new CacheIndex(`${tempDir()}/index.db`);
    try {
      const db = index.db;
      keepImage(db, image(1), ["docker.io/library/base:latest", "docker.io/library/other:v1"]);
      expect(imageByName(db, "docker.io/library/base:latest")?.manifest).toBe(image(1).manifest);
      keepImage(db, image(2), ["docker.io/library/base:latest"]);
      expect(imageByName(db, "docker.io/library/base:latest")?.manifest).toBe(image(2).manifest);
      expect(listImages(db).map((i) => [i.manifest, i.names])).toEqual([
        [image(2).manifest, ["docker.io/library/base:latest"]],
        [image(1).manifest, ["docker.io/library/other:v1"]],
      ]);
      expect(removeName(db, "docker.io/library/other:v1")).toBe(true);
      expect(removeName(db, "docker.io/library/other:v1")).toBe(false);
      keepImage(db, image(3), []);
      expect(removeDangling(db).sort()).toEqual([image(1).manifest, image(3).manifest].sort());
      expect(listImages(db).map((i) => i.manifest)).toEqual([image(2).manifest]);
      removeImage(db, image(2).manifest);
      expect(imageByManifest(db, image(2).manifest)).toBeUndefined();
      expect(imageByName(db, "docker.io/library/base:latest")).toBeUndefined();
    } finally {
      index.close();
    }
  });

  test("an index made before the image store gains its tables when opened", () => {
    const path = `${tempDir()}/index.db`;
    const old = new Database(path, { create: true });
    old.exec("CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL); INSERT INTO meta VALUES ('schema', '2');");
    old.close();
    const index = new CacheIndex(path);
    try {
      keepImage(index.db, image(4), ["docker.io/library/x:latest"]);
      expect(listImages(index.db)).toHaveLength(1);
      expect((index.db.query("SELECT v FROM meta WHERE k = 'schema'").get() as { v: string }).v).toBe("3");
    } finally {
      index.close();
    }
  });
});
