// Choosing one platform's manifest from an index as containerd's platform matcher does: the os and
// architecture must match; the exact variant is preferred, and 32-bit arm also runs older variants
// (v7 runs v6 and v5). Entries without a platform (attestations) are never chosen.
import { normalizePlatform } from "../oci/platform.ts";
import type { Descriptor, Platform } from "../oci/types.ts";

const ARM_VARIANTS = ["v8", "v7", "v6", "v5"];

/** The variants that can run on `want`, best first. */
function acceptedVariants(want: Platform): string[] {
  const variant = want.variant ?? "";
  if (want.architecture === "arm" && ARM_VARIANTS.includes(variant)) return ARM_VARIANTS.slice(ARM_VARIANTS.indexOf(variant));
  if (want.architecture === "amd64" && (variant === "" || variant === "v1")) return ["", "v1"];
  return [variant];
}

export function choosePlatform(manifests: readonly Descriptor[], wanted: Platform): Descriptor | undefined {
  const want = normalizePlatform(wanted);
  const variants = acceptedVariants(want);
  let best: { desc: Descriptor; rank: number } | undefined;
  for (const desc of manifests) {
    if (!desc.platform) continue;
    const have = normalizePlatform(desc.platform);
    if (have.os !== want.os || have.architecture !== want.architecture) continue;
    const rank = variants.indexOf(have.variant ?? "");
    if (rank >= 0 && (!best || rank < best.rank)) best = { desc, rank };
  }
  return best?.desc;
}
