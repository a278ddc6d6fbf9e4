// `--platform` as buildx reads it: comma-separated and repeatable, each value parsed and normalized
// as containerd's platforms package does (oci/platform.ts: aarch64 → arm64, armhf → arm/v7,
// arm64/v8 → arm64, …), `local` the host's platform, duplicates dropped in order. A bad value is a
// usage error.
import { formatPlatform, hostPlatform, parsePlatformSpec } from "../oci/platform.ts";
import type { Platform } from "../oci/types.ts";
import { KitError } from "../util/errors.ts";

/** The platforms of `--platform` values (undefined when none was given: the host's). */
export function parsePlatformFlag(values: readonly string[]): Platform[] | undefined {
  const specs = values.flatMap((v) => v.split(",")).map((s) => s.trim()).filter((s) => s !== "");
  if (specs.length === 0) return undefined;
  const seen = new Map<string, Platform>();
  for (const spec of specs) {
    const p = spec === "local" ? hostPlatform() : platformValue(spec);
    const key = formatPlatform(p);
    if (!seen.has(key)) seen.set(key, p);
  }
  return [...seen.values()];
}

/** One platform a user typed (`--platform`, an annotation's `[PLATFORM]`), or the usage error saying why not. */
export function platformValue(spec: string): Platform {
  const parsed = parsePlatformSpec(spec);
  if (parsed.ok) return parsed.platform;
  throw new KitError("E_USAGE", `invalid platform "${spec}": ${parsed.reason}`, {
    hint: "use OS/ARCH[/VARIANT] such as linux/amd64, linux/arm64 or linux/arm/v7 (comma-separated or repeated), or local for this machine's",
  });
}
