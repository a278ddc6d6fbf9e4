// WORKDIR: sets the working directory (relative to the previous one) and creates it, owned by the
// stage's USER, as a file op of its own; `WORKDIR /` changes nothing on disk.
import { node, output } from "../../../llb/builder.ts";
import type { FileOp } from "../../../llb/ops.ts";
import type { WorkdirCommand } from "../instructions/types.ts";
import type { DispatchContext } from "./dispatch-context.ts";
import { expander } from "./dispatch-config.ts";
import { displayName } from "./display.ts";
import { chownOf, cleanPath, normalizeWorkdir } from "./paths.ts";
import { commitHistory, type StageState } from "./state.ts";

export function dispatchWorkdir(s: StageState, c: WorkdirCommand, ctx: DispatchContext): void {
  const wd = normalizeWorkdir(s.image.config.WorkingDir ?? "", expander(s, ctx)(c.path));
  s.image.config.WorkingDir = wd;
  s.workdir = wd;
  const withLayer = wd !== "/";
  if (withLayer) {
    const user = s.image.config.User ?? "";
    const op: FileOp = {
      kind: "file",
      base: s.output ? 0 : -1,
      actions: [
        {
          action: "mkdir",
          path: cleanPath(wd),
          mode: 0o755,
          makeParents: true,
          ...(user ? { owner: chownOf(user) } : {}),
          ...(ctx.epoch === undefined ? {} : { timestamp: ctx.epoch }),
        },
      ],
    };
    const name = displayName(s, ctx, c.original, { raw: false });
    s.output = output(node(op, s.output ? [s.output] : [], ctx.meta(name, c.location)));
  }
  commitHistory(s, `WORKDIR ${wd}`, { withLayer, fromState: false, epoch: ctx.epoch });
}

/** The working directory a stage inherits from its image config (no step, no history). */
export function inheritWorkdir(s: StageState): void {
  const current = s.image.config.WorkingDir ?? "";
  if (current === "") return;
  s.image.config.WorkingDir = normalizeWorkdir(current, current);
  s.workdir = s.image.config.WorkingDir;
}
