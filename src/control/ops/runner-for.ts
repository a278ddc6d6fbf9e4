// Chooses the runner for each vertex by its op kind; sources by their scheme (sources.ts).
import type { Op } from "../../llb/ops.ts";
import type { OpRunner, SolverVertex } from "../../solver/vertex.ts";
import { isContextSource } from "./cache-digest.ts";
import type { BuildRef } from "../refs.ts";
import type { BuildSession } from "../session.ts";
import { execRunner } from "./exec.ts";
import { fileRunner } from "./file.ts";
import { mergeRunner } from "./merge.ts";
import { sourceRunner } from "./sources.ts";

/** `inputOps` are the ops of the vertex's inputs, in order (to tell which inputs are the context). */
export function runnerFor(session: BuildSession, v: SolverVertex, inputOps: ReadonlyArray<Op | undefined>): OpRunner<BuildRef> {
  const op = v.vertex.op;
  const contextInputs = inputOps.map(isContextSource);
  switch (op.kind) {
    case "source":
      return sourceRunner(session, op);
    case "exec":
      return execRunner(session, op, contextInputs);
    case "file":
      return fileRunner(session, op, contextInputs);
    case "merge":
      return mergeRunner(session, op);
  }
}
