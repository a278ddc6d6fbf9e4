// The SBOM attestations of a build: the final filesystem's (sbom.spdx.json) and, with
// `scan-stage=true` or a stage's BUILDKIT_SBOM_SCAN_STAGE, each such built stage's
// (sbom-STAGE.spdx.json, as BuildKit names them). A stage the build did not need to run (its
// result came from the cache, or a later step was cached) is solved again for its filesystem.
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
  /** Every built stage: all of them are scanned, or (undefined) only those whose ARG asks. */
  scanAllStages: boolean;
  stages: readonly BuiltStage[];
  /** Solves a stage's filesystem again (the caller's solver and session). */
  solveStage: (root: Edge) => Promise<BuildRef>;
  progress: ProgressSink;
  signal: AbortSignal;
};

export async function sbomAttestations(inp: SbomInputs): Promise<Attestation[]> {
  const out: Attestation[] = [];
  const scan = (id: number | null, name: string) => scanSnapshot(id, inp.snapshotter, { name, sourceDateEpoch: inp.sourceDateEpoch, signal: inp.signal });
  const doc = await progressTask(inp.progress, "sbom", "[internal] generating sbom", () => scan(inp.root, inp.name));
  out.push({ kind: "sbom", predicateType: SPDX_PREDICATE_TYPE, path: "sbom.spdx.json", predicate: doc });
  for (const stage of inp.stages) {
    if (!stage.root || !(inp.scanAllStages || stage.scanByArg)) continue;
    const stageRoot = stage.root;
    const predicate = await (async () => {
      const ref = await inp.solveStage(stageRoot);
      try {
        return await progressTask(inp.progress, `sbom-${stage.name}`, `[internal] generating sbom of stage ${stage.name}`, () => scan(snapshotIdOf(ref), `stage ${stage.name}`));
      } finally {
        await ref.release();
      }
    })();
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
