// Build results by cache key, in the cache index. A record is only trusted while the snapshot it
// names is still committed; anything else is a miss.
import type { ResultStore, SolverVertex } from "../solver/vertex.ts";
import type { CacheIndex } from "../cache/index.ts";
import { type BuildRef, snapshotRef } from "./refs.ts";

export function indexResultStore(index: CacheIndex): ResultStore<BuildRef> {
  return {
    async load(key) {
      const rows = index.results(key);
      if (rows.length === 0) return undefined;
      const refs: BuildRef[] = [];
      for (const row of rows) {
        if (index.getSnapshot(row.snapshot)?.state !== "committed") return undefined;
        refs[row.output] = snapshotRef(row.snapshot);
      }
      index.touchResults(key);
      return refs;
    },
    async save(key, v: SolverVertex, results) {
      const rows = results.flatMap((r, output) => (r.kind === "snapshot" ? [{ output, snapshot: r.id }] : []));
      // Scratch and context results are cheap to make again and are not stored.
      if (rows.length !== results.length) return;
      index.putResults(key, rows, v.meta.name ?? v.vertex.op.kind);
    },
  };
}
