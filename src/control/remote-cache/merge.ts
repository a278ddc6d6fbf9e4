// Exports to one cache reference add up instead of replacing each other: a new export is merged
// into what the reference holds (its entries win for the keys it has), the oldest entries dropped
// past `max-entries`. Registries here ignore If-Match, so a writer makes sure its entries are there
// after it wrote (see registry-cache.ts) and merges again when a concurrent writer replaced them.
import type { CacheConfig, CacheEntry, CacheLayer } from "./format.ts";

/** Entries a cache keeps by default; each costs a few hundred bytes of config and no manifest space. */
export const DEFAULT_MAX_ENTRIES = 5000;

/** `ours` merged into `theirs` (which may be absent), newest `maxEntries` entries kept, layers re-indexed. */
export function mergeCaches(theirs: CacheConfig | undefined, ours: CacheConfig, maxEntries: number, now = Date.now()): CacheConfig {
  const all: Array<[string, CacheEntry, CacheLayer[]]> = [];
  const seen = new Set<string>();
  for (const [key, entry] of Object.entries(ours.entries)) {
    seen.add(key);
    all.push([key, { ...entry, time: now }, ours.layers]);
  }
  for (const [key, entry] of Object.entries(theirs?.entries ?? {})) {
    if (!seen.has(key)) all.push([key, entry, (theirs as CacheConfig).layers]);
  }
  all.sort((a, b) => (b[1].time ?? 0) - (a[1].time ?? 0));
  const layers: CacheLayer[] = [];
  const indexOf = new Map<string, number>();
  const add = (layer: CacheLayer): number => {
    let at = indexOf.get(layer.digest);
    if (at === undefined) {
      at = layers.length;
      indexOf.set(layer.digest, at);
      layers.push(layer);
    }
    return at;
  };
  const entries: CacheConfig["entries"] = {};
  for (const [key, entry, from] of all.slice(0, maxEntries)) {
    entries[key] = { ...entry, outputs: entry.outputs.map((chain) => chain.map((i) => add(from[i] as CacheLayer))) };
  }
  // Cache mounts: ours replace theirs of the same id.
  const mounts: Record<string, number> = {};
  for (const [cache, isOurs] of [[theirs, false], [ours, true]] as const) {
    for (const [id, i] of Object.entries(cache?.mounts ?? {})) {
      const layer = cache?.layers[i];
      if (layer && (isOurs || !(id in mounts))) mounts[id] = add(layer);
    }
  }
  return { kitbuildCache: 1, layers, entries, ...(Object.keys(mounts).length > 0 ? { mounts } : {}) };
}

/** Whether every entry of `ours` is in `cache` (as some export wrote it). */
export function holdsEntries(cache: CacheConfig | undefined, ours: CacheConfig): boolean {
  return cache !== undefined && Object.keys(ours.entries).every((key) => Object.hasOwn(cache.entries, key));
}
