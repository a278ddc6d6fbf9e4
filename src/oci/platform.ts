// Platforms: the host's, parsing "linux/arm64/v8", formatting, and matching an index entry.
import type { Platform } from "./types.ts";

const ARCH_FROM_NODE: Record<string, string> = {
  x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64",
};

export function hostPlatform(): Platform {
  const architecture = ARCH_FROM_NODE[process.arch] ?? process.arch;
  const p: Platform = { os: "linux", architecture };
  if (architecture === "arm64") p.variant = "v8";
  return p;
}

export function parsePlatform(s: string): Platform | undefined {
  const [os, architecture, variant, ...rest] = s.split("/");
  if (!os || !architecture || rest.length > 0) return undefined;
  const p: Platform = { os, architecture };
  if (variant) p.variant = variant;
  return normalizePlatform(p);
}

export function normalizePlatform(p: Platform): Platform {
  const out: Platform = { os: p.os.toLowerCase(), architecture: p.architecture.toLowerCase() };
  if (out.architecture === "aarch64") out.architecture = "arm64";
  if (out.architecture === "x86_64") out.architecture = "amd64";
  const variant = p.variant ?? (out.architecture === "arm64" ? "v8" : undefined);
  if (variant) out.variant = variant;
  return out;
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}
