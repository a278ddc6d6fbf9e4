// Platforms as containerd's platforms package has them: the host's, parsing a specifier
// ("linux/arm64", "arm64", "linux/arm/v7"), normalizing (aarch64 → arm64, armhf → arm/v7, arm64/v8 →
// arm64, arm → arm/v7, amd64/v1 → amd64, i386 → 386) and formatting.
import type { Platform } from "./types.ts";

const ARCH_FROM_NODE: Record<string, string> = {
  x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64",
};

const KNOWN_OS = new Set(["aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "windows", "zos"]);
const KNOWN_ARCH = new Set([
  "386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "ppc64", "ppc64le", "loong64", "mips", "mipsle", "mips64", "mips64le",
  "mips64p32", "mips64p32le", "ppc", "riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm",
]);

/** The platform kitbuild runs on, normalized (BuildKit's worker platform: linux/amd64, linux/arm64 without a variant). */
export function hostPlatform(): Platform {
  return normalizePlatform({ os: "linux", architecture: ARCH_FROM_NODE[process.arch] ?? process.arch });
}

/** Why a specifier is not a platform, or the platform it names (normalized, as BuildKit's dockerui reads --platform). */
export type ParsedPlatform = { ok: true; platform: Platform } | { ok: false; reason: string };

const OS_RE = /^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.%-]*)\))?$/;
const COMPONENT_RE = /^[A-Za-z0-9_.-]+$/;

/**
 * containerd's platforms.Parse followed by Normalize: "os[(version)]/arch[/variant]", or a lone os
 * (the host's architecture) or a lone architecture (linux).
 */
export function parsePlatformSpec(specifier: string): ParsedPlatform {
  if (specifier.includes("*")) return { ok: false, reason: `"${specifier}": wildcards not yet supported` };
  const parts = specifier.split("/");
  if (parts.length > 3) return { ok: false, reason: `"${specifier}": cannot parse platform specifier` };
  const osMatch = OS_RE.exec(parts[0] as string);
  if (!osMatch) return { ok: false, reason: `"${parts[0]}" is an invalid OS component of "${specifier}"` };
  const bad = parts.slice(1).find((p) => !COMPONENT_RE.test(p));
  if (bad !== undefined) return { ok: false, reason: `"${bad}" is an invalid component of "${specifier}"` };
  const os = (osMatch[1] as string).toLowerCase().replace(/^macos$/, "darwin");
  const version = osMatch[2] ? decodeURIComponent(osMatch[2]) : undefined;
  let p: Platform;
  if (parts.length === 1) {
    if (KNOWN_OS.has(os)) p = { os, architecture: hostPlatform().architecture };
    else if (KNOWN_ARCH.has(normalizeArch(os, "")[0])) p = { os: "linux", architecture: os };
    else return { ok: false, reason: `"${specifier}": unknown operating system or architecture` };
  } else {
    p = { os, architecture: parts[1] as string };
    if (parts[2] !== undefined) p.variant = parts[2];
  }
  if (version) p["os.version"] = version;
  return { ok: true, platform: normalizePlatform(p) };
}

/** A specifier's platform, or undefined when it is not one (see parsePlatformSpec for the reason). */
export function parsePlatform(s: string): Platform | undefined {
  const parsed = parsePlatformSpec(s);
  return parsed.ok ? parsed.platform : undefined;
}

/** containerd's normalizeArch: the canonical architecture and variant. */
function normalizeArch(arch: string, variant: string): [string, string] {
  const a = arch.toLowerCase();
  const v = variant.toLowerCase();
  switch (a) {
    case "i386":
      return ["386", ""];
    case "x86_64":
    case "x86-64":
    case "amd64":
      return ["amd64", v === "v1" ? "" : v];
    case "aarch64":
    case "arm64":
      if (v === "8" || v === "v8" || v === "v8.0") return ["arm64", ""];
      if (v === "9" || v === "9.0" || v === "v9.0") return ["arm64", "v9"];
      return ["arm64", v];
    case "armhf":
      return ["arm", "v7"];
    case "armel":
      return ["arm", "v6"];
    case "arm":
      if (v === "" || v === "7") return ["arm", "v7"];
      if (v === "5" || v === "6" || v === "8") return ["arm", `v${v}`];
      return ["arm", v];
    default:
      return [a, v];
  }
}

/** containerd's platforms.Normalize: the canonical form two platforms are compared in. */
export function normalizePlatform(p: Platform): Platform {
  const [architecture, variant] = normalizeArch(p.architecture, p.variant ?? "");
  const out: Platform = { os: p.os.toLowerCase().replace(/^macos$/, "darwin"), architecture };
  if (variant) out.variant = variant;
  if (p["os.version"]) out["os.version"] = p["os.version"];
  return out;
}

/** containerd's platforms.Format: os/arch[/variant] (what BUILDPLATFORM and the directory names use). */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** containerd's platforms.FormatAll: Format with the OS version, "windows(10.0.20348)/amd64" (TARGETPLATFORM, the build-check message). */
export function formatPlatformAll(p: Platform): string {
  const version = p["os.version"];
  if (!version) return formatPlatform(p);
  const encoded = version.replaceAll("%", "%25").replaceAll("+", "%2B").replaceAll("(", "%28").replaceAll(")", "%29").replaceAll("/", "%2F");
  return formatPlatform({ ...p, os: `${p.os}(${encoded})` });
}
