// Build results by cache key, in the cache index. A record is only trusted while the snapshot it
// names is still committed; anything else is a miss. Results a build uses are leased to it, and
// work in progress is claimed so that another process waits for it rather than repeating it. A key
// the index misses is asked of the remote caches (importers) in order; a result one brings in is
// recorded in the index like any other.
import type { Claims } from "../cache/claims.ts";
import type { CacheIndex } from "../cache/index.ts";
import type { Leases } from "../cache/leases.ts";
import type { CacheImporter } from "../cache/remote-cache.ts";
import type { Claim, ResultStore, SolverVertex } from "../solver/vertex.ts";
import type { VertexProgress } from "../util/progress.ts";
import { sleep } from "../util/abort.ts";
import type { CacheExplainer } from "./cache-explain.ts";
import { type BuildRef, snapshotRef } from "./refs.ts";

const CLAIM_POLL_MS = 50;

export function indexResultStore(
  index: CacheIndex,
  claims: Claims,
  leases: Leases,
  explainer: CacheExplainer,
  importers: readonly CacheImporter[] = [],
): ResultStore<BuildRef> {
  const load = (key: string): BuildRef[] | undefined => {
    const rows = index.results(key);
    if (rows.length === 0) return undefined;
    // Lease first, then check: a prune either sees our lease, or has already marked the snapshot
    // as deleting and we see that here.
    leases.hold(rows.map((r) => r.snapshot));
    const refs: BuildRef[] = [];
    for (const row of rows) {
      if (index.getSnapshot(row.snapshot)?.state !== "committed") return undefined;
      refs[row.output] = snapshotRef(row.snapshot);
    }
    index.touchResults(key);
    return refs;
  };
  /** The first importer's result for `key`, recorded locally. */
  const imported = async (key: string, v: SolverVertex, signal: AbortSignal, progress?: VertexProgress): Promise<BuildRef[] | undefined> => {
    for (const importer of importers) {
      if (!(await importer.has(key, signal))) continue;
      const ids = await importer.materialize(key, signal, progress);
      if (!ids) continue;
      index.putResults(key, ids.map((snapshot, output) => ({ output, snapshot })), v.meta.name ?? v.vertex.op.kind);
      return load(key);
    }
    return undefined;
  };
  return {
    load: async (key, v, signal, progress) => load(key) ?? (importers.length > 0 ? await imported(key, v, signal, progress) : undefined),
    async save(key, v: SolverVertex, results, _signal, parts) {
      const rows = results.flatMap((r, output) => (r.kind === "snapshot" ? [{ output, snapshot: r.id }] : []));
      leases.hold(rows.map((r) => r.snapshot));
      // Scratch and context results are cheap to make again and are not stored.
      if (rows.length !== results.length) return;
      index.putResults(key, rows, v.meta.name ?? v.vertex.op.kind);
      await explainer.record(key, v, parts);
    },
    // A key that reaches here missed the remote caches too: say so after the local reasons.
    explainMiss: async (key, v, parts) => [...(await explainer.explain(key, v, parts)), ...importers.map((i) => `not in the remote cache ${i.name} either`)],
    async claim(key, _v, progress, signal): Promise<Claim<BuildRef>> {
      let waitStatus: string | undefined;
      const finish = <T>(claim: T): T => {
        if (waitStatus) progress.statusDone(waitStatus);
        return claim;
      };
      for (;;) {
        const holder = claims.tryClaim(key);
        if (holder === undefined) {
          // Another process may have finished this step since our cache lookup.
          const done = load(key);
          if (!done) return finish({ kind: "mine", release: () => claims.release(key) });
          claims.release(key);
          return finish({ kind: "done", results: done });
        }
        if (!waitStatus) {
          waitStatus = `waiting for kitbuild process ${holder}, which is building this step`;
          progress.status(waitStatus, 0);
        }
        await sleep(CLAIM_POLL_MS, signal);
        const done = load(key);
        if (done) return finish({ kind: "done", results: done });
      }
    },
  };
}
