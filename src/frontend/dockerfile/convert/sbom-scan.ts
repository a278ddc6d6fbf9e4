// Which intermediate stages an SBOM also scans (BuildKit's BUILDKIT_SBOM_SCAN_STAGE): `true`,
// `false`, or a comma-separated list of stage names, from an ARG declared in the stage (its
// default, or the --build-arg of that name) or declared globally (propagated to every stage).
// A build arg alone changes nothing: it only overrides an ARG the Dockerfile declares.
import type { Edge } from "../../../llb/ops.ts";
import { marshal } from "../../../llb/builder.ts";
import type { EnvGetter } from "../shell/lex.ts";
import type { StageState } from "./state.ts";

export const SBOM_SCAN_STAGE_ARG = "BUILDKIT_SBOM_SCAN_STAGE";

/** A built stage other than the target: its name, its filesystem, and whether its ARG asks for a scan. */
export type BuiltStage = { name: string; root: Edge | undefined; scanByArg: boolean };

export function builtStages(states: readonly StageState[], reachable: ReadonlySet<StageState>, target: StageState, globals: EnvGetter, buildArgs: Record<string, string>): BuiltStage[] {
  return states
    .filter((s) => reachable.has(s) && s !== target && !s.unregistered)
    .map((s) => {
      const name = s.stage.name ?? `stage-${s.stage.index}`;
      const value = stageValue(s, globals, buildArgs);
      return { name, root: s.output ? marshal(s.output).root : undefined, scanByArg: value !== undefined && scans(value, name) };
    });
}

function stageValue(s: StageState, globals: EnvGetter, buildArgs: Record<string, string>): string | undefined {
  for (const entry of s.commands) {
    if (entry.cmd.kind !== "arg") continue;
    const arg = entry.cmd.args.find((a) => a.key === SBOM_SCAN_STAGE_ARG);
    if (arg) return buildArgs[SBOM_SCAN_STAGE_ARG] ?? arg.value ?? globals.get(SBOM_SCAN_STAGE_ARG);
  }
  return globals.get(SBOM_SCAN_STAGE_ARG);
}

function scans(value: string, name: string): boolean {
  if (/^(1|t|true)$/i.test(value)) return true;
  if (/^(0|f|false)$/i.test(value) || value === "") return false;
  return value.split(",").map((v) => v.trim()).includes(name);
}
