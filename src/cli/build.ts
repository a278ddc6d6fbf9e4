// `kitbuild build [OPTIONS] PATH` (and `kitbuild PATH`): flags as in docker buildx build.
import { defineCommand } from "citty";
import { build } from "../control/solve.ts";
import { helpArgs } from "./build-flag-table.ts";
import { parseBuildFlags, withDockerfileText } from "./build-flags.ts";
import { createRenderer } from "./render/renderer.ts";
import { guarded, type Runtime } from "./runtime.ts";
import { runBuildCall } from "./build-call.ts";
import { buildWarningsText } from "./call-output.ts";
import type { BuildHooks } from "../control/build-checks.ts";

export function buildCommand(rt: Runtime) {
  return defineCommand({
    meta: { name: "build", description: "Start a build (kitbuild PATH is the same as kitbuild build PATH)" },
    args: helpArgs("build"),
    run: ({ rawArgs }) =>
      guarded(rt, async () => {
        const { progress, dockerfileOnStdin, call, ...groups } = parseBuildFlags(rawArgs, rt.env);
        const frontend = await withDockerfileText(groups.frontend, dockerfileOnStdin);
        const renderer = createRenderer(progress, {
          stderr: rt.stderr,
          stdout: (t) => void rt.stdout(t),
          stderrIsTTY: rt.stderrIsTTY,
          columns: rt.columns,
        });
        if (call) return runBuildCall(rt, call, { frontend, registry: groups.registry, session: groups.session, env: rt.env, config: rt.config() }, renderer);
        // The build checks' findings, printed once the progress output ends (as buildx does, also on failure).
        let printChecks = () => {};
        const onChecks: BuildHooks["onChecks"] = (r, src) => {
          if (progress !== "quiet" && progress !== "none" && progress !== "rawjson") printChecks = () => rt.stderr(buildWarningsText(r.warnings, src, rt.debug));
        };
        try {
          const result = await build(
            { ...groups, frontend, env: rt.env, config: rt.config(), stdout: (chunk) => rt.stdout(chunk) },
            (e) => renderer.event(e),
            rt.signal,
            { onChecks },
          );
          renderer.close();
          printChecks();
          if (result.unusedBuildArgs.length > 0) {
            rt.log.warn(`one or more build-args [${result.unusedBuildArgs.join(" ")}] were not consumed`);
          }
        } catch (e) {
          renderer.close();
          printChecks();
          throw e;
        }
      }),
  });
}
