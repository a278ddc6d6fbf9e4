// What a cache export holds: the results this build found or made, each output as its layer chain
// (the layers an image export of it would have: base layers as pulled, the others diffed and
// gzipped), for every step (mode=max) or for the final result's steps only (mode=min).
import { snapshotLayers } from "../../exporter/layers.ts";
import type { VertexProgress } from "../../util/progress.ts";
import type { BuildEnvironment } from "../environment.ts";
import type { CacheConfig, CacheLayer } from "./format.ts";

/** A step's result as the build saw it: its cache key, name and output snapshots. */
export type BuildRecord = { key: string; name: string; snapshots: number[] };

export type Collected = { cache: CacheConfig; sources: Map<string, string> };

export type CollectOptions = { mode: "min" | "max"; root: number | null; sourceDateEpoch: number | undefined; progress: VertexProgress; signal: AbortSignal };

export async function collectCache(env: BuildEnvironment, records: Iterable<BuildRecord>, opts: CollectOptions): Promise<Collected> {
  const inRoot = new Set(opts.root === null ? [] : env.snapshotter.layers(opts.root));
  const layers: CacheLayer[] = [];
  const indexOf = new Map<string, number>();
  const sources = new Map<string, string>();
  const entries: CacheConfig["entries"] = {};
  const deps = { snapshotter: env.snapshotter, store: env.store, index: env.index, progress: opts.progress };
  for (const rec of records) {
    if (opts.mode === "min" && !rec.snapshots.every((id) => inRoot.has(id))) continue;
    const outputs: number[][] = [];
    for (const id of rec.snapshots) {
      const chain = await snapshotLayers(deps, id).layers({ compression: "gzip", force: false, ociMediaTypes: true, sourceDateEpoch: opts.sourceDateEpoch, signal: opts.signal });
      outputs.push(chain.layers.map((l) => {
        const known = indexOf.get(l.descriptor.digest);
        if (known !== undefined) return known;
        indexOf.set(l.descriptor.digest, layers.length);
        if (l.source) sources.set(l.descriptor.digest, l.source);
        layers.push({ digest: l.descriptor.digest, size: l.descriptor.size, mediaType: l.descriptor.mediaType, diffId: l.diffId });
        return layers.length - 1;
      }));
    }
    entries[rec.key] = { name: rec.name, outputs };
  }
  return { cache: { kitbuildCache: 1, layers, entries }, sources };
}
