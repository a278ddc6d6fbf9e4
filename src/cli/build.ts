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
import { familiarName } from "../control/image-store.ts";

/** buildx's warning for a build whose result only stays in the cache, with kitbuild's ways out. */
const NO_OUTPUT_WARNING =
  "No output specified. Build result will only remain in the build cache. To keep the image in kitbuild's image store use -t NAME, to push result image into registry use --push or to load image into docker use --load";

/** Where an image built with -t alone went, and how to use it or get it out. */
function keptText(names: string[]): string {
  const shown = names.map((n) => familiarName(n).replace(/:latest$/, ""));
  return `image kept in kitbuild's image store as ${shown.join(", ")} (see kitbuild images): FROM ${shown[0]} uses it; to load it into docker or push it, build again with --load or --push\n`;
}

export function buildCommand(rt: Runtime) {
  return defineCommand({
    meta: { name: "build", description: "Start a build (kitbuild PATH is the same as kitbuild build PATH)" },
    args: helpArgs("build"),
    run: ({ rawArgs }) =>
      guarded(rt, async () => {
        const { progress, dockerfileOnStdin, call, printImageId, ...groups } = parseBuildFlags(rawArgs, rt.env);
        const frontend = await withDockerfileText(groups.frontend, dockerfileOnStdin);
        const renderer = createRenderer(progress, {
          stderr: rt.stderr,
          stdout: (t) => void rt.stdout(t),
          stderrIsTTY: rt.stderrIsTTY,
          columns: rt.columns,
        });
        if (call) return runBuildCall(rt, call, { frontend, registry: groups.registry, session: groups.session, env: rt.env, config: rt.config() }, renderer);
        if (groups.exports.outputs.length === 0) rt.log.warn(NO_OUTPUT_WARNING);
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
          const kept = result.image.kept;
          if (kept?.only && kept.names.length > 0 && progress !== "quiet" && progress !== "none" && progress !== "rawjson") rt.stderr(keptText(kept.names));
          // As buildx: the image ID (config digest) on stdout, so IMG=$(kitbuild build -q .) works.
          if (printImageId && result.image.imageId) await rt.stdout(`${result.image.imageId}\n`);
        } catch (e) {
          renderer.close();
          printChecks();
          throw e;
        }
      }),
  });
}
