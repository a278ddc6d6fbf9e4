// A remote cache as the result store sees it (cache/remote-cache.ts): a key is known from the cache's
// metadata alone; a result is brought in only when the solver asks for it, its layers unpacked into
// snapshots shared by chain id as a base image's are. Data that turns out missing or corrupt is one
// warning and a miss: the step runs.
import type { CacheImporter } from "../../cache/remote-cache.ts";
import type { ChainLayer, LayerFetcher } from "../../source/image.ts";
import { KitError } from "../../util/errors.ts";
import type { VertexProgress } from "../../util/progress.ts";
import type { BuildEnvironment } from "../environment.ts";
import type { CacheConfig } from "./format.ts";

export type OpenedCache = {
  /** Where it comes from, for messages. */
  name: string;
  cache: CacheConfig;
  /** Brings a layer's blob into the content store, reporting its download to the step's progress. */
  fetch: (progress: VertexProgress) => LayerFetcher;
  /** The repository its blobs live in ("host/path"), so an image export can mount them; "" for a directory. */
  source: string;
};

export const SILENT_PROGRESS: VertexProgress = { vertex: "", log() {}, status() {}, statusDone() {}, warn() {}, note() {} };

export function cacheImporter(env: BuildEnvironment, opened: OpenedCache, warn: (message: string) => void): CacheImporter {
  const { cache } = opened;
  return {
    name: opened.name,
    has: async (key) => Object.hasOwn(cache.entries, key),
    async materialize(key, signal, progress = SILENT_PROGRESS) {
      const entry = cache.entries[key];
      if (!entry) return undefined;
      try {
        const ids: number[] = [];
        for (const output of entry.outputs) {
          const top = await env.images.pullChain(chainOf(cache, output), opened.fetch(progress), opened.source, progress, signal);
          if (top === null) return undefined;
          ids.push(top);
        }
        progress.note(`found in the remote cache ${opened.name}`);
        return ids;
      } catch (e) {
        if (signal.aborted) throw e;
        const why = e instanceof Error ? e.message : String(e);
        warn(`the cached result of "${entry.name}" in ${opened.name} cannot be used (${why}): the step runs`);
        return undefined;
      }
    },
  };
}

function chainOf(cache: CacheConfig, indexes: number[]): ChainLayer[] {
  return indexes.map((i) => {
    const l = cache.layers[i];
    if (!l) throw new KitError("E_CACHE_REMOTE_FORMAT", `layer ${i} is not in the cache`);
    return { desc: { mediaType: l.mediaType, digest: l.digest, size: l.size }, diffId: l.diffId };
  });
}
