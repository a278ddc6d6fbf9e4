// Unpacking chains of layers (ImageSource.pullChain) in one process: two bases that share their
// lower layers, pulled at the same time (stages FROM them run at once), download and unpack each
// shared layer once and then build on the same snapshot.
import { describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { CacheIndex } from "../../src/cache/index.ts";
import type { Descriptor } from "../../src/oci/types.ts";
import { NativeSnapshotter } from "../../src/snapshot/native.ts";
import { type ChainLayer, ImageSource } from "../../src/source/image.ts";
import { type ProgressEvent, vertexProgress } from "../../src/util/progress.ts";
import { makeTar } from "../../scripts/test-env.ts";
import { tempDir } from "../harness.ts";
import { sha256Of, signal, tempStore } from "../registry/helpers.ts";

describe("pulling chains that share layers", () => {
  test("two chains pulled at once fetch and unpack their shared layer once and stack on the same snapshot", async () => {
    const root = tempDir("kitbuild-chain-");
    const index = new CacheIndex(`${root}/index.db`);
    const store = tempStore();
    try {
      const layer = async (name: string): Promise<ChainLayer> => {
        const tar = await makeTar([{ name, type: "file", mode: 0o644, body: new TextEncoder().encode(`${name}\n`) }]);
        const gz = gzipSync(tar);
        const desc: Descriptor = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha256Of(gz), size: gz.length };
        await store.writeBytes(gz, { digest: desc.digest }, signal());
        return { desc, diffId: sha256Of(tar) };
      };
      const [shared, a, b] = [await layer("shared.txt"), await layer("a.txt"), await layer("b.txt")];
      const snapshotter = new NativeSnapshotter(root, index, false);
      const images = new ImageSource({ registry: undefined as never, store, index, snapshotter, preserveOwner: false });
      const fetched: string[] = [];
      const fetch = async (d: Descriptor) => void fetched.push(d.digest);
      const events: ProgressEvent[] = [];
      const progress = vertexProgress((e) => events.push(e), "test");
      const [topA, topB] = await Promise.all([
        images.pullChain([shared, a], fetch, "local/a", progress, signal()),
        images.pullChain([shared, b], fetch, "local/b", progress, signal()),
      ]);
      const unpacked = (d: Descriptor) => events.filter((e) => e.type === "status" && e.id === `extracting ${d.digest}` && e.completed !== undefined).length;
      expect(unpacked(shared.desc)).toBe(1);
      expect([unpacked(a.desc), unpacked(b.desc)]).toEqual([1, 1]);
      expect(fetched.filter((d) => d === shared.desc.digest)).toHaveLength(1);
      expect(topA).not.toBe(topB);
      // Both tops stack on the one snapshot of the shared layer (a bottom layer's chain id is its DiffID).
      const sharedSnapshot = index.layerSnapshot(shared.diffId);
      expect(sharedSnapshot).toBeDefined();
      expect(snapshotter.layers(topA as number)[0]).toBe(sharedSnapshot as number);
      expect(snapshotter.layers(topB as number)[0]).toBe(sharedSnapshot as number);
    } finally {
      index.close();
    }
  });
});
