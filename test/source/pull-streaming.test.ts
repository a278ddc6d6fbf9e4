// A layer is unpacked while its blob downloads (content/growing-blob.ts), and what was unpacked is
// kept only once the download has verified the blob. These tests drive ImageSource.pullChain with a
// fetcher that writes into a real content store slowly, chunk by chunk: the unpack starts before
// the download ends; a download that starts over with other bytes (a failed digest, then the right
// blob) leaves only the right tree; a download that fails gives its own error and keeps nothing; an
// abort in the middle leaves no snapshot and no temp file.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { CacheIndex } from "../../src/cache/index.ts";
import type { ContentStore, IngestListener } from "../../src/content/store.ts";
import type { Descriptor } from "../../src/oci/types.ts";
import { NativeSnapshotter } from "../../src/snapshot/native.ts";
import { type ChainLayer, ImageSource, type LayerFetcher } from "../../src/source/image.ts";
import { KitError } from "../../src/util/errors.ts";
import { type ProgressEvent, vertexProgress } from "../../src/util/progress.ts";
import { makeTar } from "../../scripts/test-env.ts";
import { tempDir } from "../harness.ts";
import { sha256Of, storeContents, tempStore } from "../registry/helpers.ts";

const CHUNK = 16 * 1024;

/** A gzip layer of `files` files named `prefix`N, with incompressible bodies (so the blob has many chunks). */
async function layerOf(prefix: string, files: number): Promise<{ layer: ChainLayer; gz: Uint8Array }> {
  const entries = Array.from({ length: files }, (_, i) => ({ name: `${prefix}${i}`, type: "file" as const, mode: 0o644, body: crypto.getRandomValues(new Uint8Array(20_000)) }));
  const tar = await makeTar(entries);
  const gz = gzipSync(tar);
  const desc: Descriptor = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha256Of(gz), size: gz.length };
  return { layer: { desc, diffId: sha256Of(tar) }, gz };
}

/** `bytes` in small chunks, a few milliseconds apart (a slow network); `failAfter` bytes: then a transfer error. */
async function* slowly(bytes: Uint8Array, failAfter = Infinity): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < bytes.length; off += CHUNK) {
    if (off >= failAfter) throw new KitError("E_REGISTRY_TRANSFER", "the download broke off (test)");
    await Bun.sleep(2);
    yield bytes.subarray(off, off + CHUNK);
  }
}

function setup() {
  const root = tempDir("kitbuild-stream-");
  const index = new CacheIndex(`${root}/index.db`);
  const store = tempStore();
  const snapshotter = new NativeSnapshotter(root, index, false);
  const images = new ImageSource({ registry: undefined as never, store, index, snapshotter, preserveOwner: false });
  const log: string[] = [];
  const progress = vertexProgress((e: ProgressEvent) => {
    if (e.type === "status" && e.id.startsWith("extracting ") && e.completed === undefined && !log.includes("unpack started")) log.push("unpack started");
  }, "test");
  return { root, index, store, snapshotter, images, progress, log };
}

/** A fetcher that writes each of `attempts` into the store in turn until one is stored (as fetchBlobToStore starts over). */
function fetcher(store: ContentStore, log: string[], attempts: Array<() => AsyncIterable<Uint8Array>>, signal: AbortSignal): LayerFetcher {
  return async (desc: Descriptor, ingest?: IngestListener) => {
    let last: unknown;
    for (const attempt of attempts) {
      try {
        await store.write(attempt(), { digest: desc.digest, size: desc.size }, signal, undefined, ingest);
        log.push("download done");
        return;
      } catch (e) {
        last = e;
      }
    }
    throw last;
  };
}

async function treeOf(s: NativeSnapshotter, id: number): Promise<string[]> {
  await using view = await s.mountReadonly(id);
  return readdirSync(view.path).sort();
}

describe("unpacking a layer while it downloads", () => {
  test("the unpack starts before the download ends and gives the layer's tree", async () => {
    const t = setup();
    const { layer, gz } = await layerOf("f", 40);
    const top = await t.images.pullChain([layer], fetcher(t.store, t.log, [() => slowly(gz)], new AbortController().signal), "local/a", t.progress, new AbortController().signal);
    expect(t.log).toEqual(["unpack started", "download done"]);
    expect(top).toBe(t.index.layerSnapshot(layer.diffId) as number);
    expect(await treeOf(t.snapshotter, top as number)).toEqual(Array.from({ length: 40 }, (_, i) => `f${i}`).sort());
    expect(storeContents(t.store)).toEqual({ blobs: [layer.desc.digest], ingest: [] });
    t.index.close();
  });

  test("a download that starts over after other bytes (a wrong digest) keeps only the right tree", async () => {
    const t = setup();
    const { layer, gz } = await layerOf("good", 30);
    const evil = await layerOf("evil", 30);
    const attempts = [() => slowly(evil.gz), () => slowly(gz)];
    const top = await t.images.pullChain([layer], fetcher(t.store, t.log, attempts, new AbortController().signal), "local/a", t.progress, new AbortController().signal);
    const tree = await treeOf(t.snapshotter, top as number);
    expect(tree).toEqual(Array.from({ length: 30 }, (_, i) => `good${i}`).sort());
    expect(storeContents(t.store)).toEqual({ blobs: [layer.desc.digest], ingest: [] });
    t.index.close();
  });

  /** The unpack had started; no snapshot, blob, temp file or snapshot directory is left. */
  function expectNothingKept(t: ReturnType<typeof setup>, layer: ChainLayer): void {
    expect(t.log).toEqual(["unpack started"]);
    expect(t.index.layerSnapshot(layer.diffId)).toBeUndefined();
    expect(storeContents(t.store)).toEqual({ blobs: [], ingest: [] });
    expect(readdirSync(`${t.root}/snapshots`)).toEqual([]);
    t.index.close();
  }

  test("a download that fails gives its own error and keeps nothing", async () => {
    const t = setup();
    const { layer, gz } = await layerOf("f", 40);
    const pulling = t.images.pullChain([layer], fetcher(t.store, t.log, [() => slowly(gz, 5 * CHUNK)], new AbortController().signal), "local/a", t.progress, new AbortController().signal);
    await expect(pulling).rejects.toMatchObject({ code: "E_REGISTRY_TRANSFER" });
    expectNothingKept(t, layer);
  });

  test("an abort in the middle of the unpack leaves no snapshot and no temp file", async () => {
    const t = setup();
    const { layer, gz } = await layerOf("f", 40);
    const ctl = new AbortController();
    const pulling = t.images.pullChain([layer], fetcher(t.store, t.log, [() => slowly(gz)], ctl.signal), "local/a", t.progress, ctl.signal);
    setTimeout(() => ctl.abort(new KitError("E_CANCELED", "interrupted (test)")), 30);
    await expect(pulling).rejects.toMatchObject({ code: "E_CANCELED" });
    expectNothingKept(t, layer);
  });

  test("a tar that is not valid but downloads intact fails as an invalid archive", async () => {
    const t = setup();
    const junk = gzipSync(crypto.getRandomValues(new Uint8Array(200_000)));
    const layer: ChainLayer = { desc: { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha256Of(junk), size: junk.length }, diffId: sha256Of("x") };
    const pulling = t.images.pullChain([layer], fetcher(t.store, t.log, [() => slowly(junk)], new AbortController().signal), "local/a", t.progress, new AbortController().signal);
    await expect(pulling).rejects.toMatchObject({ code: "E_ARCHIVE_INVALID" });
    expect(t.index.layerSnapshot(layer.diffId)).toBeUndefined();
    expect(existsSync(t.store.path(layer.desc.digest)) && readFileSync(t.store.path(layer.desc.digest)).length).toBe(junk.length);
    t.index.close();
  });
});
