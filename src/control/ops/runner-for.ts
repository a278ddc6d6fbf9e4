// Chooses the runner for each vertex by its op.
import type { Op } from "../../llb/ops.ts";
import type { OpRunner, SolverVertex } from "../../solver/vertex.ts";
import { isContextSource } from "./cache-digest.ts";
import { KitError } from "../../util/errors.ts";
import type { BuildRef } from "../refs.ts";
import type { BuildSession } from "../session.ts";
import { execRunner } from "./exec.ts";
import { fileRunner } from "./file.ts";
import { imageSourceRunner } from "./source-image.ts";
import { localSourceRunner } from "./source-local.ts";
import { mergeRunner } from "./merge.ts";
import { gitSourceRunner } from "./source-git.ts";
import { httpSourceRunner } from "./source-http.ts";

/** `inputOps` are the ops of the vertex's inputs, in order (to tell which inputs are the context). */
export function runnerFor(session: BuildSession, v: SolverVertex, inputOps: ReadonlyArray<Op | undefined>): OpRunner<BuildRef> {
  const op = v.vertex.op;
  const contextInputs = inputOps.map(isContextSource);
  switch (op.kind) {
    case "source":
      if (op.identifier.startsWith("docker-image://")) return imageSourceRunner(session, op);
      if (op.identifier.startsWith("local://")) return localSourceRunner(session, op);
      if (/^https?:\/\//.test(op.identifier)) return httpSourceRunner(session, op);
      if (/^git(\+|:\/\/)/.test(op.identifier)) return gitSourceRunner(session, op);
      throw new KitError("E_INTERNAL", `source "${op.identifier}" is not supported yet`);
    case "exec":
      return execRunner(session, op, contextInputs);
    case "file":
      return fileRunner(session, op, contextInputs);
    case "merge":
      return mergeRunner(session, op);
  }
}
