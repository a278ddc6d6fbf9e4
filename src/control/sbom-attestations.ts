// The SBOM attestations of a build: the final filesystem's (sbom.spdx.json) and, with
// `scan-stage=true` or a stage's BUILDKIT_SBOM_SCAN_STAGE, each such built stage's
// (sbom-STAGE.spdx.json, as BuildKit names them). The stages to scan are solved with the build
// (their roots beside the platforms' in one solve), so each is looked up or run once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import type { Attestation } from "../exporter/attestations.ts";
import { scanRootfs } from "../exporter/sbom/scan.ts";
import type { BuiltStage } from "../frontend/dockerfile/convert/sbom-scan.ts";
import type { Edge } from "../llb/ops.ts";
import type { Snapshotter } from "../snapshot/snapshotter.ts";
import { type ProgressSink, progressTask } from "../util/progress.ts";
import { type BuildRef, snapshotIdOf } from "./refs.ts";

export const SPDX_PREDICATE_TYPE = "https://spdx.dev/Document";

export type SbomInputs = {
  /** What the SBOM names (the first image name, else "image"). */
  name: string;
  root: number | null;
  snapshotter: Snapshotter;
  sourceDateEpoch: number | undefined;
  /** The scanned stages' filesystems, solved with the build (stagesToScan chose them). */
  stages: ReadonlyArray<{ name: string; ref: BuildRef }>;
  progress: ProgressSink;
  signal: AbortSignal;
};

/** The built stages an SBOM also scans: all with `scan-stage=true`, else those whose ARG asks; none without an SBOM. */
export function stagesToScan(stages: readonly BuiltStage[], sbom: { scanStage: boolean } | undefined): Array<{ name: string; root: Edge }> {
  if (!sbom) return [];
  return stages.flatMap((s) => (s.root && (sbom.scanStage || s.scanByArg) ? [{ name: s.name, root: s.root }] : []));
}

export async function sbomAttestations(inp: SbomInputs): Promise<Attestation[]> {
  const out: Attestation[] = [];
  const scan = (id: number | null, name: string) => scanSnapshot(id, inp.snapshotter, { name, sourceDateEpoch: inp.sourceDateEpoch, signal: inp.signal });
  const doc = await progressTask(inp.progress, "sbom", "[internal] generating sbom", () => scan(inp.root, inp.name));
  out.push({ kind: "sbom", predicateType: SPDX_PREDICATE_TYPE, path: "sbom.spdx.json", predicate: doc });
  for (const stage of inp.stages) {
    const predicate = await progressTask(inp.progress, `sbom-${stage.name}`, `[internal] generating sbom of stage ${stage.name}`, () => scan(snapshotIdOf(stage.ref), `stage ${stage.name}`));
    out.push({ kind: "sbom", predicateType: SPDX_PREDICATE_TYPE, path: `sbom-${stage.name}.spdx.json`, predicate });
  }
  return out;
}

async function scanSnapshot(id: number | null, snapshotter: Snapshotter, opts: { name: string; sourceDateEpoch: number | undefined; signal: AbortSignal }): Promise<unknown> {
  if (id === null) {
    // An empty filesystem (scratch with nothing added) has no packages; scan an empty directory.
    const dir = mkdtempSync(`${tmpdir()}/kitbuild-sbom-`);
    try {
      return await scanRootfs(dir, opts);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  await using mounted = await snapshotter.mountReadonly(id);
  return scanRootfs(mounted.path, opts);
}
