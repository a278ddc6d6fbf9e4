// Merging a cache export into what the reference holds: every entry of both kept (the new export's
// win for shared keys), the oldest dropped past max-entries, layers shared and re-indexed.
import { describe, expect, test } from "bun:test";
import type { CacheConfig, CacheLayer } from "../../src/control/remote-cache/format.ts";
import { holdsEntries, mergeCaches } from "../../src/control/remote-cache/merge.ts";

const layer = (n: number): CacheLayer => ({ digest: `sha256:${String(n).repeat(64).slice(0, 64)}` as CacheLayer["digest"], size: n, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", diffId: `sha256:${"d".repeat(63)}${n}` as CacheLayer["diffId"] });

/** The layer digests of each entry's outputs, by key: what survives re-indexing. */
const chains = (c: CacheConfig) => Object.fromEntries(Object.entries(c.entries).map(([k, e]) => [k, e.outputs.map((o) => o.map((i) => c.layers[i]?.digest))]));

describe("mergeCaches", () => {
  const theirs: CacheConfig = { kitbuildCache: 1, layers: [layer(1), layer(2)], entries: { a: { name: "A", outputs: [[0, 1]], time: 100 }, shared: { name: "old", outputs: [[0]], time: 50 } } };
  const ours: CacheConfig = { kitbuildCache: 1, layers: [layer(1), layer(3)], entries: { b: { name: "B", outputs: [[0, 1]] }, shared: { name: "new", outputs: [[1]] } } };

  test("keeps both exports' entries, ours for shared keys, each layer once", () => {
    const merged = mergeCaches(theirs, ours, 100, 1000);
    expect(Object.keys(merged.entries).sort()).toEqual(["a", "b", "shared"]);
    expect(merged.entries.shared?.name).toBe("new");
    expect(chains(merged)).toEqual({
      a: [[layer(1).digest, layer(2).digest]],
      b: [[layer(1).digest, layer(3).digest]],
      shared: [[layer(3).digest]],
    });
    expect(merged.layers.map((l) => l.digest).sort()).toEqual([layer(1), layer(2), layer(3)].map((l) => l.digest).sort());
    expect(holdsEntries(merged, ours)).toBe(true);
    expect(holdsEntries(theirs, ours)).toBe(false);
    expect(holdsEntries(undefined, ours)).toBe(false);
  });

  test("past max-entries the oldest go, with the layers only they used", () => {
    const merged = mergeCaches(theirs, ours, 2, 1000);
    expect(Object.keys(merged.entries).sort()).toEqual(["b", "shared"]);
    expect(merged.layers.map((l) => l.digest).sort()).toEqual([layer(1), layer(3)].map((l) => l.digest).sort());
  });

  test("cache mounts are carried, ours replacing theirs of the same id", () => {
    const a: CacheConfig = { ...theirs, layers: [...theirs.layers, layer(7), layer(8)], mounts: { pkgs: 2, keep: 3 } };
    const b: CacheConfig = { ...ours, layers: [...ours.layers, layer(9)], mounts: { pkgs: 2 } };
    const merged = mergeCaches(a, b, 100, 1000);
    const mountLayers = Object.fromEntries(Object.entries(merged.mounts ?? {}).map(([id, i]) => [id, merged.layers[i]?.digest]));
    expect(mountLayers).toEqual({ pkgs: layer(9).digest, keep: layer(8).digest });
  });

  test("a first export is ours alone", () => {
    expect(chains(mergeCaches(undefined, ours, 10, 5))).toEqual(chains(ours));
  });
});
