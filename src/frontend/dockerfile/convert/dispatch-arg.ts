// ARG inside a stage: a --build-arg wins, else the default (expanded with the stage's environment),
// else a global ARG of the same name. The value reaches RUN's environment, never the image config.
import type { ArgCommand } from "../instructions/types.ts";
import type { DispatchContext } from "./dispatch-context.ts";
import { commitHistory, envGetter, type StageState } from "./state.ts";

/** ARGs that configure BuildKit itself and never reach a step's environment. */
const NON_ENV_ARGS = new Set(["BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"]);

export function dispatchArg(s: StageState, c: ArgCommand, ctx: DispatchContext): void {
  const parts: string[] = [];
  for (const arg of c.args) {
    let value = arg.value;
    const fromBuildArgs = Object.hasOwn(ctx.buildArgs, arg.key);
    if (fromBuildArgs) {
      value = ctx.buildArgs[arg.key];
      ctx.usedBuildArgs.add(arg.key);
    } else if (value !== undefined) {
      value = ctx.lex.processWord(value, envGetter(s)).result;
    } else {
      value = ctx.globalArgs.get(arg.key);
    }
    if (value !== undefined && !NON_ENV_ARGS.has(arg.key)) s.env.set(arg.key, value);
    s.buildArgs.push({ key: arg.key, value });
    parts.push(value === undefined ? arg.key : `${arg.key}=${value}`);
  }
  commitHistory(s, `ARG ${parts.join(" ")}`, { withLayer: false, fromState: false, epoch: ctx.epoch });
}
