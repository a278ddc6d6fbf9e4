// Runs merge ops (COPY --link): the inputs' filesystems stacked as layers, later over earlier. On
// overlay nothing is copied; the copied files stay a layer of their own that does not depend on
// what lies below, so changing an earlier stage does not redo the copy.
import { digestOf } from "../../llb/digest.ts";
import type { MergeOp } from "../../llb/ops.ts";
import type { OpRunner } from "../../solver/vertex.ts";
import { type BuildRef, scratchRef, snapshotIdOf, snapshotRef } from "../refs.ts";
import type { BuildSession } from "../session.ts";

export function mergeRunner(session: BuildSession, op: MergeOp): OpRunner<BuildRef> {
  return {
    async cacheMap() {
      return { digest: digestOf(op), deps: [], cacheable: true };
    },
    async exec(inputs, ctx) {
      // An empty (scratch) input adds nothing to the stack.
      const ids = inputs.map(snapshotIdOf).filter((id): id is number => id !== null);
      if (ids.length === 0) return [scratchRef()];
      if (ids.length === 1) return [snapshotRef(ids[0] as number)];
      return [snapshotRef(await session.env.snapshotter.merge(ids, ctx.signal))];
    },
  };
}
