// `kitbuild build [OPTIONS] PATH` (and `kitbuild PATH`): flags as in docker buildx build.
import { defineCommand } from "citty";
import { build } from "../control/solve.ts";
import { parseBuildFlags, withDockerfileText } from "./build-flags.ts";
import { createRenderer } from "./render/renderer.ts";
import { guarded, type Runtime } from "./runtime.ts";

export function buildCommand(rt: Runtime) {
  return defineCommand({
    meta: { name: "build", description: "Start a build (kitbuild PATH is the same as kitbuild build PATH)" },
    args: {
      context: { type: "positional", description: "Build context directory", required: false },
      file: { type: "string", alias: "f", description: "Name of the Dockerfile (default: PATH/Dockerfile; - reads stdin)" },
      "build-arg": { type: "string", description: "Set a build-time variable (repeatable)" },
      target: { type: "string", description: "Set the target build stage to build" },
      output: { type: "string", alias: "o", description: "Output (repeatable): type=local|tar|oci|docker|image|registry with dest=, name=, push=…" },
      tag: { type: "string", alias: "t", description: "Image name (repeatable): for image outputs, --push and --load" },
      push: { type: "boolean", description: "Push the image (same as -o type=registry)" },
      load: { type: "boolean", description: "Load the image into docker (same as -o type=docker)" },
      label: { type: "string", description: "Set an image label, KEY=VALUE (repeatable)" },
      iidfile: { type: "string", description: "Write the image ID (its config digest) to a file" },
      "metadata-file": { type: "string", description: "Write the build's metadata (image digests and name) as JSON; - for stdout" },
      progress: { type: "string", description: "Progress output: auto, tty, plain, rawjson, quiet (default auto)" },
      quiet: { type: "boolean", alias: "q", description: "Suppress the build output" },
      "no-cache": { type: "boolean", description: "Do not use cache when building" },
      "no-cache-filter": { type: "string", description: "Do not cache the named stages (repeatable)" },
      "debug-cache": { type: "boolean", description: "Say why each step missed the cache (also KITBUILD_DEBUG_CACHE=1)" },
      "insecure-registry": { type: "string", description: "Reach this registry over plain HTTP (repeatable)" },
      "max-parallelism": { type: "string", description: "How many steps run at once (default: number of CPUs)" },
      secret: { type: "string", description: "A secret for RUN --mount=type=secret: id=ID,src=FILE or id=ID,env=VAR (repeatable)" },
      ssh: { type: "string", description: "An ssh agent for RUN --mount=type=ssh: default or ID=SOCKET|KEYFILE (repeatable)" },
      allow: { type: "string", description: "Grant an entitlement: security.insecure, network.host (repeatable)" },
    },
    run: ({ rawArgs }) =>
      guarded(rt, async () => {
        const { progress, dockerfileOnStdin, ...groups } = parseBuildFlags(rawArgs, rt.env);
        const frontend = await withDockerfileText(groups.frontend, dockerfileOnStdin);
        const renderer = createRenderer(progress, {
          stderr: rt.stderr,
          stdout: (t) => void rt.stdout(t),
          stderrIsTTY: rt.stderrIsTTY,
          columns: rt.columns,
        });
        try {
          const result = await build(
            { ...groups, frontend, env: rt.env, config: rt.config(), stdout: (chunk) => rt.stdout(chunk) },
            (e) => renderer.event(e),
            rt.signal,
          );
          renderer.close();
          if (result.unusedBuildArgs.length > 0) {
            rt.log.warn(`one or more build-args [${result.unusedBuildArgs.join(" ")}] were not consumed`);
          }
        } catch (e) {
          renderer.close();
          throw e;
        }
      }),
  });
}
