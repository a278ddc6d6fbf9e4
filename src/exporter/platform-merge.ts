// `platform-split=false` with several platforms: every platform's files go into one tree, and as
// BuildKit's local and tar exporters check before writing, a path that is not a directory may come
// from one platform only ("cannot overwrite P from linux/amd64 with linux/arm64").
import { lstatSync, readdirSync } from "node:fs";
import { canceledError } from "../util/abort.ts";
import { KitError } from "../util/errors.ts";

type MergedPart = { rootfs: string | undefined; sub: string | undefined; files: ReadonlyArray<{ name: string }>; platform: string };

export async function checkNoOverlap(parts: readonly MergedPart[], signal: AbortSignal): Promise<void> {
  const owner = new Map<string, string>();
  const claim = (path: string, platform: string) => {
    const earlier = owner.get(path);
    if (earlier !== undefined) {
      throw new KitError("E_EXPORT_PLATFORM_SPLIT", `cannot overwrite ${path} from ${earlier} with ${platform} when split option is disabled`, {
        hint: "drop platform-split=false so that each platform's files go into a directory of their own (linux_amd64/, …)",
      });
    }
    owner.set(path, platform);
  };
  for (const part of parts) {
    const prefix = part.sub ? `${part.sub}/` : "";
    if (part.rootfs !== undefined) {
      for (const path of nonDirectories(part.rootfs, signal)) claim(prefix + path, part.platform);
    }
    for (const f of part.files) claim(prefix + f.name, part.platform);
    await Promise.resolve();
  }
}

/** Every path under `root` that is not a directory, relative to it. */
function* nonDirectories(root: string, signal: AbortSignal, rel = ""): Generator<string> {
  for (const name of readdirSync(rel ? `${root}/${rel}` : root)) {
    if (signal.aborted) throw canceledError(signal);
    const path = rel ? `${rel}/${name}` : name;
    if (lstatSync(`${root}/${path}`).isDirectory()) yield* nonDirectories(root, signal, path);
    else yield path;
  }
}
