// `--platform` as buildx reads it: comma-separated and repeatable, each value parsed and normalized
// as containerd's platforms package does (aarch64 → arm64, armhf → arm/v7, arm64/v8 → arm64, …),
// `local` the host's platform, duplicates dropped in order. A bad value is a usage error.
import { formatPlatform, hostPlatform } from "../oci/platform.ts";
import type { Platform } from "../oci/types.ts";
import { KitError } from "../util/errors.ts";

const KNOWN_OS = new Set(["aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "windows", "zos", "macos"]);
const KNOWN_ARCH = new Set([
  "386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "ppc64", "ppc64le", "loong64", "mips", "mipsle", "mips64", "mips64le", "mips64p32",
  "mips64p32le", "ppc", "riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm",
  "i386", "i486", "i586", "i686", "x86_64", "x86-64", "aarch64", "armhf", "armel",
]);
const SPECIFIER = /^[A-Za-z0-9_-]+$/;

/** The platforms of `--platform` values (undefined when none was given: the host's). */
export function parsePlatformFlag(values: readonly string[]): Platform[] | undefined {
  const specs = values.flatMap((v) => v.split(",")).map((s) => s.trim()).filter((s) => s !== "");
  if (specs.length === 0) return undefined;
  const seen = new Map<string, Platform>();
  for (const spec of specs) {
    const p = spec === "local" ? normalizedHostPlatform() : parsePlatformSpec(spec);
    const key = formatPlatform(p);
    if (!seen.has(key)) seen.set(key, p);
  }
  return [...seen.values()];
}

/** The host's platform in containerd's normalized form (arm64 without its implied v8). */
export function normalizedHostPlatform(): Platform {
  const host = hostPlatform();
  return normalizeSpec(host.os, host.architecture, host.variant ?? "");
}

/** One os[/arch[/variant]] (or a lone known os or architecture) as containerd's Parse and Normalize read it. */
export function parsePlatformSpec(spec: string): Platform {
  const parts = spec.split("/");
  const bad = parts.find((p) => !SPECIFIER.test(p));
  if (bad !== undefined || parts.length > 3) {
    throw invalid(spec, parts.length > 3 ? "it has more than three parts" : `"${bad}" must match ${SPECIFIER.source}`);
  }
  const host = normalizedHostPlatform();
  if (parts.length === 1) {
    const one = (parts[0] as string).toLowerCase();
    if (KNOWN_OS.has(one)) return normalizeSpec(one, host.architecture, host.variant ?? "");
    if (KNOWN_ARCH.has(one)) return normalizeSpec(host.os, one, "");
    throw invalid(spec, "unknown operating system or architecture");
  }
  return normalizeSpec(parts[0] as string, parts[1] as string, parts[2] ?? "");
}

function normalizeSpec(osText: string, archText: string, variantText: string): Platform {
  const os = osText.toLowerCase() === "macos" ? "darwin" : osText.toLowerCase();
  const [architecture, variant] = normalizeArch(archText.toLowerCase(), variantText.toLowerCase());
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** containerd's normalizeArch: the architecture's canonical name and its variant ("" when implied). */
function normalizeArch(arch: string, variant: string): [string, string] {
  switch (arch) {
    case "i386": case "i486": case "i586": case "i686": case "386":
      return ["386", ""];
    case "x86_64": case "x86-64": case "amd64":
      return ["amd64", variant === "v1" ? "" : variant];
    case "aarch64": case "arm64":
      return ["arm64", ["8", "v8", "v8.0"].includes(variant) ? "" : ["9", "9.0", "v9.0"].includes(variant) ? "v9" : variant];
    case "armhf":
      return ["arm", "v7"];
    case "armel":
      return ["arm", "v6"];
    case "arm":
      if (variant === "" || variant === "7") return ["arm", "v7"];
      return ["arm", ["5", "6", "8"].includes(variant) ? `v${variant}` : variant];
    default:
      return [arch, variant];
  }
}

function invalid(spec: string, why: string): KitError {
  return new KitError("E_USAGE", `invalid platform "${spec}": ${why}`, {
    hint: "use OS/ARCH[/VARIANT] such as linux/amd64, linux/arm64 or linux/arm/v7 (comma-separated or repeated), or local for this machine's",
  });
}
