// A build for several platforms (--platform a,b): the Dockerfile converted once per platform, each
// its own graph with its own TARGET* arguments, then merged into one definition with a root per
// platform, so that one solve runs the vertices the platforms share (a BUILDPLATFORM stage, the
// context, base image pulls) once. BuildKit does the same by solving every platform's graph in one
// session whose solver merges identical vertices.
import type { Definition, Edge } from "../llb/ops.ts";
import { formatPlatform, hostPlatform } from "../oci/platform.ts";
import type { Platform } from "../oci/types.ts";
import { KitError } from "../util/errors.ts";
import type { FrontendAttrs } from "./request.ts";

/** The platforms a build makes: --platform's, else the host's. */
export function targetPlatforms(frontend: Pick<FrontendAttrs, "platforms">): Platform[] {
  return frontend.platforms?.length ? frontend.platforms : [hostPlatform()];
}

/** One definition holding every graph (vertices in an order where inputs come first), and each graph's root. */
export function mergeDefinitions(definitions: readonly Definition[]): { definition: Definition; roots: Edge[] } {
  if (definitions.length === 1) {
    const only = definitions[0] as Definition;
    return { definition: only, roots: only.root ? [only.root] : [] };
  }
  const merged: Definition = { vertices: [], metadata: {}, root: undefined };
  const roots: Edge[] = [];
  for (const def of definitions) {
    for (const v of def.vertices) {
      // The first graph's name wins for a shared vertex, so a shared step shows once, as BuildKit's.
      if (merged.metadata[v.digest]) continue;
      merged.vertices.push(v);
      merged.metadata[v.digest] = def.metadata[v.digest] ?? {};
    }
    if (!def.root) throw new KitError("E_INTERNAL", "a platform's build graph is empty");
    roots.push(def.root);
  }
  merged.root = roots[0];
  return { definition: merged, roots };
}

/** The image-resolution step's name with several platforms, as BuildKit's: "[linux/arm64 internal] load metadata for …". */
export function metadataStepName(platform: Platform, shownRef: string): string {
  return `[${formatPlatform(platform)} internal] load metadata for ${shownRef}`;
}

/** --metadata-file's provenance keys: one, or one per platform ("buildx.build.provenance/linux/arm64") with several, as buildx. */
export function provenanceKeys(perPlatform: ReadonlyArray<{ platform: Platform; metadata: Record<string, unknown> | undefined }>): Record<string, unknown> | undefined {
  const made = perPlatform.filter((p) => p.metadata !== undefined);
  if (made.length === 0) return undefined;
  if (perPlatform.length === 1) return { "buildx.build.provenance": made[0]?.metadata };
  return Object.fromEntries(made.map((p) => [`buildx.build.provenance/${formatPlatform(p.platform)}`, p.metadata]));
}

/** "linux/arm64" (for the CLI, which does not read platforms itself). */
export function platformName(p: Platform): string {
  return formatPlatform(p);
}
