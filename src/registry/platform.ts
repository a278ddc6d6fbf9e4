// Choosing one platform's manifest from an index as BuildKit does, through containerd's
// platforms.Only(): the platform asked for first, then what it also runs, in containerd's order
// (amd64/v3 → v2 → v1 → 386; arm/v7 → v6 → v5; arm64/v8.2 → v8.1 → v8 → arm/v8 → v7 → v6 → v5).
// A fallback to another architecture (386, 32-bit arm) is never silent: the build then warns
// InvalidBaseImagePlatform, as BuildKit does. Entries without a platform (attestations) are never
// chosen.
import { normalizePlatform } from "../oci/platform.ts";
import type { Descriptor, Platform } from "../oci/types.ts";

/** containerd's arm64 variants, each with the (major, highest minor) versions it also runs. */
const ARM64_VERSIONS: Record<string, Array<[number, number]>> = {
  v8: [[8, 0]], "v8.0": [[8, 0]], "v8.1": [[8, 1]], "v8.2": [[8, 2]], "v8.3": [[8, 3]], "v8.4": [[8, 4]],
  "v8.5": [[8, 5]], "v8.6": [[8, 6]], "v8.7": [[8, 7]], "v8.8": [[8, 8]], "v8.9": [[8, 9]],
  v9: [[9, 0], [8, 5]], "v9.0": [[9, 0], [8, 5]], "v9.1": [[9, 1], [8, 6]], "v9.2": [[9, 2], [8, 7]],
  "v9.3": [[9, 3], [8, 8]], "v9.4": [[9, 4], [8, 9]], "v9.5": [[9, 5], [8, 9]], "v9.6": [[9, 6], [8, 9]], "v9.7": [[9, 7], [8, 9]],
};

function withArch(p: Platform, architecture: string, variant?: string): Platform {
  const out: Platform = { os: p.os, architecture };
  if (variant) out.variant = variant;
  if (p["os.version"]) out["os.version"] = p["os.version"];
  return out;
}

/** containerd's platformVector: the platforms `p` runs, best first (p normalized). */
export function platformVector(p: Platform): Platform[] {
  const version = Number.parseInt((p.variant ?? "").replace(/^v/, ""), 10);
  switch (p.architecture) {
    case "amd64": {
      const lower = Number.isInteger(version) && version > 1 ? range(version - 1, 1).map((v) => withArch(p, "amd64", `v${v}`)) : [];
      return [p, ...lower, withArch(p, "386")];
    }
    case "arm": {
      const lower = Number.isInteger(version) && version > 5 ? range(version - 1, 5).map((v) => withArch(p, "arm", `v${v}`)) : [];
      return [p, ...lower];
    }
    case "arm64": {
      const variant = p.variant || "v8";
      const versions = ARM64_VERSIONS[variant];
      if (!versions) return [];
      const arm64 = versions.flatMap(([major, minor]) => range(minor, 0).map((m) => withArch(p, "arm64", m === 0 ? `v${major}` : `v${major}.${m}`)));
      // Every arm64 runs 32-bit arm up to v8.
      return [...arm64, ...platformVector(withArch(p, "arm", "v8"))];
    }
    default:
      return [p];
  }
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i >= to; i--) out.push(i);
  return out;
}

/** containerd's matcher: the same os, architecture and variant once both are normalized. */
export function platformMatches(want: Platform, have: Platform): boolean {
  const a = normalizePlatform(want);
  const b = normalizePlatform(have);
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? "") === (b.variant ?? "");
}

/** How well `have` serves `wanted`: 0 is an exact match, higher a fallback, -1 not at all. */
export function platformRank(wanted: Platform, have: Platform): number {
  return platformVector(normalizePlatform(wanted)).findIndex((p) => platformMatches(p, have));
}

/** The index entry that best serves `wanted` (the first of equals, as containerd's stable sort), or undefined. */
export function choosePlatform(manifests: readonly Descriptor[], wanted: Platform): Descriptor | undefined {
  let best: { desc: Descriptor; rank: number } | undefined;
  for (const desc of manifests) {
    if (!desc.platform) continue;
    const rank = platformRank(wanted, desc.platform);
    if (rank >= 0 && (!best || rank < best.rank)) best = { desc, rank };
  }
  return best?.desc;
}
