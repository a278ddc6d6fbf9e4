// `kitbuild debug llb [--format json|dot] [build flags] CONTEXT` and `kitbuild debug image-config
// [build flags] CONTEXT`: what a build would run and the image config it would write (in the
// build's own key order; the fields only a run can tell are named on stderr), without running
// anything. They take only the flags a conversion reads; any other is a usage error.
// Output goes to stdout; errors render as for `build`.
import { defineCommand } from "citty";
import { convertOnly } from "../control/debug.ts";
import { platformName } from "../control/platform-builds.ts";
import { previewImageConfigs } from "../control/debug-image-config.ts";
import type { DebugRequest } from "../control/request.ts";
import { helpArgs } from "./build-flag-table.ts";
import { type DebugFlags, parseDebugFlags, withDockerfileText } from "./build-flags.ts";
import { definitionDot, definitionJson, unknownFieldsText } from "./debug-output.ts";
import { guarded, type Runtime } from "./runtime.ts";

export function debugCommand(rt: Runtime) {
  return defineCommand({
    meta: { name: "debug", description: "Show what a build would do, without running it" },
    subCommands: {
      llb: defineCommand({
        meta: { name: "llb", description: "Print the build graph (JSON, or graphviz with --format dot)" },
        args: helpArgs("debug llb"),
        run: ({ rawArgs }) =>
          guarded(rt, async () => {
            const flags = parseDebugFlags("debug llb", rawArgs, rt.env);
            const result = await convertOnly(await debugRequest(rt, flags), () => {}, rt.signal);
            const roots = result.platforms.length > 1 ? result.platforms.map((p) => ({ platform: platformName(p.platform), root: p.root })) : undefined;
            await rt.stdout(flags.format === "dot" ? definitionDot(result.definition) : definitionJson(result.definition, roots));
          }),
      }),
      "image-config": defineCommand({
        meta: { name: "image-config", description: "Print the image config the build would produce" },
        args: helpArgs("debug image-config"),
        run: ({ rawArgs }) =>
          guarded(rt, async () => {
            const flags = parseDebugFlags("debug image-config", rawArgs, rt.env);
            const previews = await previewImageConfigs(await debugRequest(rt, flags), () => {}, rt.signal);
            // Several platforms: one config per platform, keyed by it (as imagetools inspect shows .Image).
            const shown = previews.length === 1 ? previews[0]?.config : Object.fromEntries(previews.map((p) => [p.platform, p.config]));
            await rt.stdout(`${JSON.stringify(shown, null, 2)}\n`);
            for (const p of previews) if (p.unknown.length > 0) rt.stderr(`${previews.length > 1 ? `${p.platform}: ` : ""}${unknownFieldsText(p.unknown)}`);
          }),
      }),
    },
  });
}

async function debugRequest(rt: Runtime, flags: DebugFlags): Promise<DebugRequest> {
  const frontend = await withDockerfileText(flags.frontend, flags.dockerfileOnStdin);
  return { frontend, registry: flags.registry, env: rt.env, config: rt.config() };
}
