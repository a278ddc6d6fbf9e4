// The seam the remote cache (--cache-from / --cache-to) plugs into. An importer answers the cache
// keys the local index misses, from its metadata alone, and brings a result into local snapshots
// only when the solver asks for it: the solver looks a step up before its inputs, so a step needed
// only as the parent of a hit is never downloaded. Keys are kitbuild's own, as in the local index.

import type { VertexProgress } from "../util/progress.ts";

export interface CacheImporter {
  /** Where the cache comes from, for messages (a registry reference, a directory). */
  readonly name: string;
  /** Whether the cache holds a result for `key`; reads metadata only. */
  has(key: string, signal: AbortSignal): Promise<boolean>;
  /**
   * Makes the result of `key` local: one committed snapshot id per output, owned by the cache index
   * from then on; undefined when the cache's data turns out missing or corrupt (the step then runs,
   * and the importer has said why). Downloads are reported to `progress`, the step's.
   */
  materialize(key: string, signal: AbortSignal, progress?: VertexProgress): Promise<number[] | undefined>;
}
