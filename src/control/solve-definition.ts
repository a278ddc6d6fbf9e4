// The one way to solve a build graph in a session: the solver wired to the op runners, the cache
// index's result store and the session's miss explainer. build() uses it, and so do the tests that
// solve hand-built graphs, so they run exactly what a build runs.
import type { CacheImporter } from "../cache/remote-cache.ts";
import type { Definition } from "../llb/ops.ts";
import { type SolveOptions, Solver } from "../solver/scheduler.ts";
import { runnerFor } from "./ops/runner-for.ts";
import type { BuildRef } from "./refs.ts";
import { indexResultStore } from "./result-store.ts";
import type { BuildSession } from "./session.ts";

export type DefinitionSolveOptions = Pick<SolveOptions<BuildRef>, "maxParallelism" | "noCache" | "explainMisses" | "progress" | "signal"> & {
  /** Remote caches asked for the keys the local index misses, in order (none until --cache-from exists). */
  importers?: readonly CacheImporter[];
};

/**
 * A solver for `definition` in `session` (which it records as the session's graph). Call solve()
 * on it; after a failure its failedVertex names the vertex that failed. The caller owns the result.
 */
export function definitionSolver(session: BuildSession, definition: Definition, { importers, ...opts }: DefinitionSolveOptions): Solver<BuildRef> {
  session.definition = definition;
  const ops = new Map(definition.vertices.map((v) => [v.digest, v.vertex.op]));
  const env = session.env;
  return new Solver<BuildRef>({
    ...opts,
    definition,
    runnerFor: (v) => runnerFor(session, v, v.vertex.inputs.map((e) => ops.get(e.digest))),
    store: indexResultStore(env.index, env.claims, env.leases, session.explainer, importers),
  });
}
