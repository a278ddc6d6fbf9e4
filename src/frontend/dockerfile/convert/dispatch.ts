// Routes each instruction of a stage to its dispatcher, and points any error at the instruction's
// lines (ONBUILD triggers point at the FROM that ran them).
import { KitError } from "../../../util/errors.ts";
import { InstructionError } from "../instructions/request.ts";
import { ShellError } from "../shell/lex.ts";
import { dispatchArg } from "./dispatch-arg.ts";
import {
  dispatchCmd, dispatchEntrypoint, dispatchEnv, dispatchExpose, dispatchHealthcheck, dispatchLabel, dispatchMaintainer,
  dispatchOnbuild, dispatchShell, dispatchStopSignal, dispatchUser, dispatchVolume,
} from "./dispatch-config.ts";
import type { DispatchContext } from "./dispatch-context.ts";
import { dispatchCopy } from "./dispatch-copy.ts";
import { dispatchRun } from "./dispatch-run.ts";
import { dispatchWorkdir } from "./dispatch-workdir.ts";
import type { CommandEntry, StageState } from "./state.ts";

export function dispatchEntry(s: StageState, entry: CommandEntry, ctx: DispatchContext): void {
  s.cmdIsOnBuild = entry.isOnBuild;
  const cmd = entry.cmd;
  try {
    switch (cmd.kind) {
      case "arg":
        return dispatchArg(s, cmd, ctx);
      case "env":
        return dispatchEnv(s, cmd, ctx);
      case "label":
        return dispatchLabel(s, cmd, ctx);
      case "user":
        return dispatchUser(s, cmd, ctx);
      case "expose":
        return dispatchExpose(s, cmd, ctx);
      case "volume":
        return dispatchVolume(s, cmd, ctx);
      case "stopsignal":
        return dispatchStopSignal(s, cmd, ctx);
      case "shell":
        return dispatchShell(s, cmd, ctx);
      case "cmd":
        return dispatchCmd(s, cmd, ctx);
      case "entrypoint":
        return dispatchEntrypoint(s, cmd, ctx);
      case "healthcheck":
        return dispatchHealthcheck(s, cmd, ctx);
      case "maintainer":
        return dispatchMaintainer(s, cmd, ctx);
      case "onbuild":
        return dispatchOnbuild(s, cmd);
      case "workdir":
        return dispatchWorkdir(s, cmd, ctx);
      case "run":
        return dispatchRun(s, cmd, entry.sources, ctx);
      case "copy":
      case "add":
        return dispatchCopy(s, cmd, entry.sources[0], ctx);
    }
  } catch (e) {
    throw locate(e, entry);
  }
}

/** Any error from a dispatcher as an InstructionError at the instruction, keeping its hint and code. */
export function locate(e: unknown, entry: CommandEntry): InstructionError {
  if (e instanceof InstructionError) return e;
  const hint = e instanceof Error && "hint" in e && typeof e.hint === "string" ? e.hint : undefined;
  let code: `E_DOCKERFILE_${string}` | undefined;
  if (e instanceof ShellError) code = "E_DOCKERFILE_EXPANSION";
  else if (e instanceof KitError && e.code.startsWith("E_DOCKERFILE_")) code = e.code as `E_DOCKERFILE_${string}`;
  return new InstructionError(e instanceof Error ? e.message : String(e), entry.cmd.location, hint, code);
}
