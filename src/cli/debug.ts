// `kitbuild debug llb [--format json|dot] [build flags] CONTEXT` and `kitbuild debug image-config
// [build flags] CONTEXT`: what a build would run and the image config it would write, without
// running anything. Output goes to stdout; errors render as for `build`.
import { defineCommand } from "citty";
import { convertOnly } from "../control/debug.ts";
import type { DebugRequest } from "../control/request.ts";
import { canonicalize } from "../llb/encode.ts";
import { KitError } from "../util/errors.ts";
import { parseBuildFlags, withDockerfileText } from "./build-flags.ts";
import { definitionDot, definitionJson } from "./debug-output.ts";
import { guarded, type Runtime } from "./runtime.ts";

const BUILD_ARGS = {
  context: { type: "positional", description: "Build context directory", required: false },
  file: { type: "string", alias: "f", description: "Name of the Dockerfile (default: PATH/Dockerfile; - reads stdin)" },
  "build-arg": { type: "string", description: "Set a build-time variable (repeatable)" },
  target: { type: "string", description: "Set the target build stage" },
  "no-cache-filter": { type: "string", description: "Mark the named stages' steps to skip the cache (repeatable)" },
  "insecure-registry": { type: "string", description: "Reach this registry over plain HTTP (repeatable)" },
} as const;

export function debugCommand(rt: Runtime) {
  return defineCommand({
    meta: { name: "debug", description: "Show what a build would do, without running it" },
    subCommands: {
      llb: defineCommand({
        meta: { name: "llb", description: "Print the build graph (JSON, or graphviz with --format dot)" },
        args: { ...BUILD_ARGS, format: { type: "string", description: "Output format: json (default) or dot" } },
        run: ({ rawArgs }) =>
          guarded(rt, async () => {
            const { format, rest } = takeFormat(rawArgs);
            const result = await convertOnly(await debugRequest(rt, rest), () => {}, rt.signal);
            await rt.stdout(format === "dot" ? definitionDot(result.definition) : definitionJson(result.definition));
          }),
      }),
      "image-config": defineCommand({
        meta: { name: "image-config", description: "Print the image config the build would produce" },
        args: BUILD_ARGS,
        run: ({ rawArgs }) =>
          guarded(rt, async () => {
            const result = await convertOnly(await debugRequest(rt, rawArgs), () => {}, rt.signal);
            await rt.stdout(`${JSON.stringify(canonicalize(result.image), null, 2)}\n`);
          }),
      }),
    },
  });
}

/** Splits `--format X` / `--format=X` off the build flags. */
function takeFormat(argv: readonly string[]): { format: "json" | "dot"; rest: string[] } {
  const rest: string[] = [];
  let format = "json";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--format") format = argv[++i] ?? "";
    else if (arg.startsWith("--format=")) format = arg.slice("--format=".length);
    else rest.push(arg);
  }
  if (format !== "json" && format !== "dot") {
    throw new KitError("E_USAGE", `invalid --format "${format}"`, { hint: "use --format json or --format dot" });
  }
  return { format, rest };
}

async function debugRequest(rt: Runtime, argv: readonly string[]): Promise<DebugRequest> {
  const flags = parseBuildFlags(argv, rt.env);
  const frontend = await withDockerfileText(flags.frontend, flags.dockerfileOnStdin);
  return { frontend, registry: flags.registry, env: rt.env, config: rt.config() };
}

