// The one way to solve a build graph in a session: the solver wired to the op runners, the cache
// index's result store and the session's miss explainer. build() uses it, and so do the tests that
// solve hand-built graphs, so they run exactly what a build runs.
import type { CacheImporter } from "../cache/remote-cache.ts";
import type { Definition } from "../llb/ops.ts";
import { type SolveOptions, Solver } from "../solver/scheduler.ts";
import type { OpRunner, ResultStore, SolverVertex } from "../solver/vertex.ts";
import { cacheRootFailure } from "../util/write-errors.ts";
import { isProcessAlive } from "../util/process.ts";
import { cacheMountsToReset } from "./ops/exec-mounts.ts";
import { runnerFor } from "./ops/runner-for.ts";
import type { BuildRef } from "./refs.ts";
import { indexResultStore } from "./result-store.ts";
import type { BuildSession } from "./session.ts";

export type DefinitionSolveOptions = Pick<SolveOptions<BuildRef>, "maxParallelism" | "noCache" | "explainMisses" | "lookupOnly" | "progress" | "signal"> & {
  /** Remote caches asked for the keys the local index misses, in order (none until --cache-from exists). */
  importers?: readonly CacheImporter[];
  /** Told every result the build finds in a cache or makes, with its key (for cache exports). */
  onResult?: (key: string, v: SolverVertex, results: BuildRef[]) => void;
};

/**
 * A solver for `definition` in `session` (which it records as the session's graph). Call solve()
 * on it; after a failure its failedVertex names the vertex that failed. The caller owns the result.
 */
export function definitionSolver(session: BuildSession, definition: Definition, { importers, onResult, ...opts }: DefinitionSolveOptions): Solver<BuildRef> {
  session.definition = definition;
  // Before any step runs, as BuildKit does when it loads the graph.
  // A lookup runs no step, so it resets nothing.
  const resets = opts.lookupOnly ? new Set<string>() : cacheMountsToReset(definition, opts.noCache);
  if (resets.size > 0) session.exec.cacheMounts(session.env, isProcessAlive).reset(resets);
  const ops = new Map(definition.vertices.map((v) => [v.digest, v.vertex.op]));
  const env = session.env;
  return new Solver<BuildRef>({
    ...opts,
    definition,
    runnerFor: (v) => namingFullDisk(runnerFor(session, v, v.vertex.inputs.map((e) => ops.get(e.digest))), env.root),
    store: reporting(indexResultStore(env.index, env.claims, env.leases, session.explainer, importers), onResult),
  });
}

/** The runner, its full-disk failures (every op writes into the cache root) said as such, naming the path. */
function namingFullDisk(runner: OpRunner<BuildRef>, root: string): OpRunner<BuildRef> {
  const mapped = (e: unknown): never => {
    throw cacheRootFailure(e, root);
  };
  return {
    cacheMap: (ctx) => runner.cacheMap(ctx).catch(mapped),
    exec: (inputs, ctx) => runner.exec(inputs, ctx).catch(mapped),
    ...(runner.willExec ? { willExec: runner.willExec } : {}),
  };
}

/** The store, telling `onResult` of each result loaded, saved or finished by another process. */
function reporting(store: ResultStore<BuildRef>, onResult: DefinitionSolveOptions["onResult"]): ResultStore<BuildRef> {
  if (!onResult) return store;
  return {
    ...store,
    async load(key, v, signal, progress) {
      const found = await store.load(key, v, signal, progress);
      if (found) onResult(key, v, found);
      return found;
    },
    async save(key, v, results, signal, parts) {
      await store.save(key, v, results, signal, parts);
      onResult(key, v, results);
    },
    ...(store.claim && {
      claim: async (key, v, progress, signal) => {
        const claim = await store.claim!(key, v, progress, signal);
        if (claim.kind === "done") onResult(key, v, claim.results);
        return claim;
      },
    }),
  };
}
