// `kitbuild rmi [-f] IMAGE...`: untag and remove images of kitbuild's image store, as `docker rmi`:
// "Untagged: NAME" and "Deleted: ID" on stdout; each image that cannot go is reported ("No such
// image: NAME") and the others are still removed, the exit code 1 when any failed. The blobs are
// left for prune (as docker leaves content to its GC).
import { type ArgsDef, defineCommand } from "citty";
import { openEnvironment } from "../control/environment.ts";
import { removeStoredImage } from "../control/image-store.ts";
import { KitError } from "../util/errors.ts";
import { renderError } from "./render/error.ts";
import { guarded, type Runtime } from "./runtime.ts";
import { checkArgs } from "./strict-args.ts";

const RMI_ARGS = {
  image: { type: "positional", required: false, description: "Images to remove: NAME[:TAG] or an image ID (a prefix of it is enough)" },
  force: { type: "boolean", alias: "f", description: "Remove an image ID with several names, untagging all of them" },
} satisfies ArgsDef;

export function rmiCommand(rt: Runtime) {
  return defineCommand({
    meta: { name: "rmi", description: "Remove images from kitbuild's image store" },
    args: RMI_ARGS,
    run: ({ args, rawArgs }) =>
      guarded(rt, async () => {
        // Any number of images: checked as one positional each.
        const images = positionals(rawArgs);
        checkArgs("rmi", rawArgs, { ...RMI_ARGS, ...Object.fromEntries(images.map((_, i) => [`image${i}`, { type: "positional" as const }])) });
        if (images.length === 0) throw new KitError("E_USAGE", '"kitbuild rmi" requires at least 1 argument', { hint: "usage: kitbuild rmi [-f] IMAGE [IMAGE...]" });
        await using env = await openEnvironment({ config: rt.config(), env: rt.env, insecureRegistries: [] });
        let failed: KitError | undefined;
        for (const image of images) {
          try {
            const lines = removeStoredImage(env, image, args.force === true);
            await rt.stdout(lines.map((l) => (l.untagged ? `Untagged: ${l.untagged}\n` : `Deleted: ${l.deleted}\n`)).join(""));
          } catch (e) {
            if (!(e instanceof KitError) || !e.code.startsWith("E_IMAGE_")) throw e;
            if (failed) rt.stderr(renderError(failed, false, rt.debug));
            failed = e;
          }
        }
        // The last failure is the command's (guarded renders it and sets the exit code); earlier ones were printed.
        if (failed) throw failed;
      }, { solving: false }),
  });
}

/** The arguments that are not flags (rmi has no flag that takes a value). */
function positionals(rawArgs: readonly string[]): string[] {
  const dash = rawArgs.indexOf("--");
  const before = dash < 0 ? rawArgs : rawArgs.slice(0, dash);
  return [...before.filter((a) => !a.startsWith("-") || a === "-"), ...(dash < 0 ? [] : rawArgs.slice(dash + 1))];
}
