// What a cache export holds: the results this build found or made, each output as its layer chain
// (the layers an image export of it would have: base layers as pulled, the others diffed and
// compressed as the export asks, gzip by default), for every step (mode=max) or for the final results' steps only (mode=min; one final
// result per platform).
import { snapshotLayers } from "../../exporter/layers.ts";
import type { Compression } from "../../exporter/image-options.ts";
import type { VertexProgress } from "../../util/progress.ts";
import type { BuildEnvironment } from "../environment.ts";
import type { Digest } from "../../oci/types.ts";
import type { CacheConfig, CacheLayer } from "./format.ts";

/** A step's result as the build saw it: its cache key, name and output snapshots. */
export type BuildRecord = { key: string; name: string; snapshots: number[] };

export type Collected = { cache: CacheConfig; sources: Map<string, string> };

export type CollectOptions = {
  mode: "min" | "max";
  /** The final results, one per platform: mode=min keeps the steps whose snapshots are layers of any of them. */
  roots: ReadonlyArray<number | null>;
  sourceDateEpoch: number | undefined;
  /** The layers' compression (`compression=`, `compression-level=`, `force-compression=`; gzip by default). */
  layers?: { compression: Compression; level?: number; force: boolean };
  /** Imported caches: their entries for steps of the final result are carried on (see carryImported). */
  imported?: readonly CacheConfig[];
  progress: VertexProgress;
  signal: AbortSignal;
};

export async function collectCache(env: BuildEnvironment, records: Iterable<BuildRecord>, opts: CollectOptions): Promise<Collected> {
  const inRoot = new Set(opts.roots.flatMap((root) => (root === null ? [] : env.snapshotter.layers(root))));
  const layers: CacheLayer[] = [];
  const indexOf = new Map<string, number>();
  const sources = new Map<string, string>();
  const entries: CacheConfig["entries"] = {};
  const deps = { snapshotter: env.snapshotter, store: env.store, index: env.index, progress: opts.progress };
  const layerOpts = { compression: "gzip" as const, force: false, ...opts.layers, ociMediaTypes: true, sourceDateEpoch: opts.sourceDateEpoch, signal: opts.signal };
  const add = (l: { descriptor: { digest: Digest; size: number; mediaType: string }; diffId: Digest; source?: string }): number => {
    const known = indexOf.get(l.descriptor.digest);
    if (known !== undefined) return known;
    indexOf.set(l.descriptor.digest, layers.length);
    if (l.source) sources.set(l.descriptor.digest, l.source);
    layers.push({ digest: l.descriptor.digest, size: l.descriptor.size, mediaType: l.descriptor.mediaType, diffId: l.diffId });
    return layers.length - 1;
  };
  for (const rec of records) {
    if (opts.mode === "min" && !rec.snapshots.every((id) => inRoot.has(id))) continue;
    const outputs: number[][] = [];
    for (const id of rec.snapshots) {
      const chain = await snapshotLayers(deps, id).layers(layerOpts);
      outputs.push(chain.layers.map(add));
    }
    entries[rec.key] = { name: rec.name, outputs };
  }
  for (const root of new Set(opts.roots)) {
    if (root === null || !opts.imported?.length) continue;
    const rootChain = (await snapshotLayers(deps, root).layers(layerOpts)).layers;
    carryImported(opts.imported, rootChain.map((l) => l.diffId), entries, (i) => add(rootChain[i] as (typeof rootChain)[number]));
  }
  return { cache: { kitbuildCache: 1, layers, entries }, sources };
}

/**
 * A step found in an imported cache is looked up alone: the steps before it are never loaded, so
 * this build has no record of them. Their entries in the imported caches are carried on when their
 * layers are the final result's own (a prefix of its chain), so a cache re-exported by a machine
 * that imported it keeps every step of the final image, not only the last.
 */
function carryImported(imported: readonly CacheConfig[], rootDiffIds: Digest[], entries: CacheConfig["entries"], addRootLayer: (i: number) => number): void {
  for (const cache of imported) {
    for (const [key, entry] of Object.entries(cache.entries)) {
      if (Object.hasOwn(entries, key)) continue;
      const isPrefix = (chain: number[]) => chain.every((li, at) => cache.layers[li]?.diffId === rootDiffIds[at]);
      if (!entry.outputs.every(isPrefix)) continue;
      entries[key] = { name: entry.name, outputs: entry.outputs.map((chain) => chain.map((_, at) => addRootLayer(at))) };
    }
  }
}
