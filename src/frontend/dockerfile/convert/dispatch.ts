// Routes each instruction (other than ARG, which needs the build-arg scope) to its dispatcher.
import type { Command } from "../instructions/types.ts";
import type { ShellLex } from "../shell/lex.ts";
import {
  dispatchCmd, dispatchEntrypoint, dispatchEnv, dispatchExpose, dispatchHealthcheck, dispatchLabel, dispatchMaintainer,
  dispatchOnbuild, dispatchShell, dispatchStopSignal, dispatchUser, dispatchVolume,
} from "./dispatch-config.ts";
import { dispatchCopy, dispatchWorkdir } from "./dispatch-file.ts";
import { dispatchRun } from "./dispatch-run.ts";
import type { StageState } from "./state.ts";
import type { StepContext } from "./step-context.ts";

export function dispatchCommand(s: StageState, cmd: Exclude<Command, { kind: "arg" }>, lex: ShellLex, ctx: StepContext): void {
  switch (cmd.kind) {
    case "env":
      return dispatchEnv(s, cmd, lex);
    case "label":
      return dispatchLabel(s, cmd, lex);
    case "user":
      return dispatchUser(s, cmd, lex);
    case "expose":
      return dispatchExpose(s, cmd, lex);
    case "volume":
      return dispatchVolume(s, cmd, lex);
    case "stopsignal":
      return dispatchStopSignal(s, cmd, lex);
    case "shell":
      return dispatchShell(s, cmd);
    case "cmd":
      return dispatchCmd(s, cmd);
    case "entrypoint":
      return dispatchEntrypoint(s, cmd);
    case "healthcheck":
      return dispatchHealthcheck(s, cmd);
    case "maintainer":
      return dispatchMaintainer(s, cmd, lex);
    case "onbuild":
      return dispatchOnbuild(s, cmd);
    case "workdir":
      return dispatchWorkdir(s, cmd, lex, ctx);
    case "run":
      return dispatchRun(s, cmd, ctx);
    case "copy":
    case "add":
      return dispatchCopy(s, cmd, lex, ctx);
  }
}
