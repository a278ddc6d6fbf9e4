// Chooses the runner for each vertex by its op.
import type { OpRunner, SolverVertex } from "../../solver/vertex.ts";
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

export function runnerFor(session: BuildSession, v: SolverVertex): OpRunner<BuildRef> {
  const op = v.vertex.op;
  switch (op.kind) {
    case "source":
      if (op.identifier.startsWith("docker-image://")) return imageSourceRunner(session, op);
      if (op.identifier.startsWith("local://")) return localSourceRunner(session, op);
      if (/^https?:\/\//.test(op.identifier)) return httpSourceRunner(session, op);
      if (/^git(\+|:\/\/)/.test(op.identifier)) return gitSourceRunner(session, op);
      throw new KitError("E_INTERNAL", `source "${op.identifier}" is not supported yet`);
    case "exec":
      return execRunner(session, op);
    case "file":
      return fileRunner(session, op, v.vertex.inputs.length);
    case "merge":
      return mergeRunner(session, op);
  }
}
