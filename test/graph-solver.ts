// One way for tests to solve hand-built graphs with the real solver, op runners and result store,
// wired exactly as control/solve.ts wires a build.
import type { BuildEnvironment } from "../src/control/environment.ts";
import { runnerFor } from "../src/control/ops/runner-for.ts";
import type { BuildRef } from "../src/control/refs.ts";
import { indexResultStore } from "../src/control/result-store.ts";
import type { BuildSession } from "../src/control/session.ts";
import type { Definition } from "../src/llb/ops.ts";
import { Solver } from "../src/solver/scheduler.ts";
import type { ProgressSink } from "../src/util/progress.ts";

export type GraphSolverOptions = { noCache?: boolean; maxParallelism?: number; progress: ProgressSink; signal: AbortSignal };

export function graphSolver(env: BuildEnvironment, session: BuildSession, definition: Definition, opts: GraphSolverOptions): Solver<BuildRef> {
  session.definition = definition;
  const ops = new Map(definition.vertices.map((v) => [v.digest, v.vertex.op]));
  return new Solver<BuildRef>({
    definition,
    runnerFor: (v) => runnerFor(session, v, v.vertex.inputs.map((e) => ops.get(e.digest))),
    store: indexResultStore(env.index, env.claims, env.leases, session.explainer),
    maxParallelism: opts.maxParallelism ?? 4,
    noCache: opts.noCache ?? false,
    progress: opts.progress,
    signal: opts.signal,
  });
}
