// Runs local:// sources: the build context, read in place through its .dockerignore. It is never
// cached itself; the steps that read it are keyed by checksums of exactly the files they read.
// Nothing is transferred, so unlike BuildKit it reports no "transferring context" size: walking the
// whole context only to count it would cost more than the rest of a no-op rebuild.
import { digestOf } from "../../llb/digest.ts";
import type { SourceOp } from "../../llb/ops.ts";
import type { OpRunner } from "../../solver/vertex.ts";
import { openLocalContext } from "../../source/local.ts";
import { type BuildRef, contextRef } from "../refs.ts";
import type { BuildSession } from "../session.ts";

export function localSourceRunner(session: BuildSession, op: SourceOp): OpRunner<BuildRef> {
  const excludes = op.attrs.excludepatterns ? (JSON.parse(op.attrs.excludepatterns) as string[]) : [];
  return {
    async cacheMap() {
      return { digest: digestOf({ op, session: session.id }), deps: [], cacheable: false };
    },
    async exec() {
      // A named context (--build-context NAME=DIR) carries its directory; the build context is the session's.
      return [contextRef(openLocalContext(op.attrs.dir ?? session.contextDir, excludes))];
    },
  };
}
