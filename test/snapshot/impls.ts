// What the snapshot tests share: both snapshotters, each on a fresh cache root, and applying a layer
// built from tar-stream entries (an independent tar writer) as a real layer snapshot.
import { writeFileSync } from "node:fs";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { CacheIndex } from "../../src/cache/index.ts";
import type { LayerCompression } from "../../src/oci/media-types.ts";
import { applyLayerFile } from "../../src/snapshot/layer-apply.ts";
import { NativeSnapshotter } from "../../src/snapshot/native.ts";
import { OverlaySnapshotter } from "../../src/snapshot/overlay.ts";
import type { Snapshotter } from "../../src/snapshot/snapshotter.ts";
import { makeTar } from "../../scripts/test-env.ts";
import { tempDir } from "../harness.ts";

export type Impl = { name: "overlay" | "native"; make: (root: string, index: CacheIndex) => Snapshotter };

export const IMPLS: Impl[] = [
  { name: "overlay", make: (root, index) => new OverlaySnapshotter(root, index) },
  { name: "native", make: (root, index) => new NativeSnapshotter(root, index, true) },
];

export type TarEntry = Parameters<typeof makeTar>[0][number];

export const signal = new AbortController().signal;
export const text = (s: string) => new TextEncoder().encode(s);

/** A snapshotter of this kind on a fresh root (in `root` when given). */
export function freshSnapshotter(impl: Impl, root = tempDir(`kitbuild-${impl.name}-`)): { root: string; index: CacheIndex; s: Snapshotter } {
  const index = new CacheIndex(`${root}/index.db`);
  return { root, index, s: impl.make(root, index) };
}

let blobs = 0;

/** Writes the entries as a layer blob in `dir`. */
export async function layerFile(dir: string, entries: TarEntry[], compression: LayerCompression = "gzip"): Promise<string> {
  const tar = await makeTar(entries);
  const bytes = compression === "gzip" ? gzipSync(tar) : compression === "zstd" ? zstdCompressSync(tar) : tar;
  const path = `${dir}/layer-${++blobs}.tar`;
  writeFileSync(path, bytes);
  return path;
}

/** Applies a layer blob on `parent` as a new committed snapshot. */
export async function applyTo(s: Snapshotter, parent: number | null, blob: string, compression: LayerCompression = "gzip"): Promise<number> {
  await using active = await s.prepare(parent, "layer");
  {
    await using target = await active.mount();
    await applyLayerFile(blob, compression, target.path, { preserveOwner: true, signal });
  }
  return active.commit();
}

/** Applies the entries as a layer on `parent`. */
export async function applyEntries(s: Snapshotter, parent: number | null, work: string, entries: TarEntry[]): Promise<number> {
  return applyTo(s, parent, await layerFile(work, entries));
}
