// Exporting a build's result to every output it asked for, each by the exporter its type names
// (exporter/exporters.ts), image outputs also kept in kitbuild's image store
// (exporter/store-exporter.ts), then --iidfile and --metadata-file from the last image written.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { ExportedImage, ExportInput } from "../exporter/exporter.ts";
import { exporterFor } from "../exporter/exporters.ts";
import { imageMetadata } from "../exporter/image.ts";
import { keepInStore, type KeptImage, keptInStore } from "../exporter/store-exporter.ts";
import type { OutputSpec } from "../exporter/image-options.ts";
import { type ProgressSink, progressTask } from "../util/progress.ts";
import { writeFailure } from "../util/write-errors.ts";
import type { BuildEnvironment } from "./environment.ts";
import { type BuildRef, snapshotIdOf } from "./refs.ts";

export type ExportRequest = Omit<ExportInput, "root"> & {
  outputs: OutputSpec[];
  iidFile: string | undefined;
  metadataFile: string | undefined;
  /** --metadata-file's buildx.build.provenance, when the build made provenance. */
  provenanceMetadata?: Record<string, unknown>;
};

/** The image the build wrote last (its ID is what -q prints), and where kitbuild's image store keeps it. */
export type ExportOutcome = { imageId?: string; kept?: KeptImage & { only: boolean } };

export async function exportResult(env: BuildEnvironment, req: ExportRequest, root: BuildRef, progress: ProgressSink, signal: AbortSignal): Promise<ExportOutcome> {
  const input: ExportInput = { ...req, root: snapshotIdOf(root) };
  let last: ExportedImage | undefined;
  let kept: KeptImage | undefined;
  for (const [i, out] of req.outputs.entries()) {
    const exporter = exporterFor(out);
    const image = await progressTask(progress, `export-${i}`, exporter.title, async (p) => {
      const exported = await exporter.export(out, { services: env, input, progress: p, signal });
      if (exported && keptInStore(out)) kept = keepInStore(exported, out, input.root, env, p);
      return exported;
    });
    if (image) last = image;
  }
  // Provenance goes to --metadata-file even when no output is an image (type=local, type=tar), as buildx.
  if (last || req.provenanceMetadata) writeBuildMetadata(req, last);
  // "only": the image went nowhere else (no push, no load), so the user is told how to get it out.
  const only = req.outputs.every((o) => o.type === "image" && !o.push);
  return { ...(last ? { imageId: last.image.config.descriptor.digest } : {}), ...(kept ? { kept: { ...kept, only } } : {}) };
}

/** --iidfile (the image ID: its config digest, as docker) and --metadata-file (buildx's keys). */
function writeBuildMetadata(req: ExportRequest, last: ExportedImage | undefined): void {
  if (req.iidFile && last) writeTo(req, req.iidFile, last.image.config.descriptor.digest);
  if (req.metadataFile) {
    const provenance = req.provenanceMetadata ? { "buildx.build.provenance": req.provenanceMetadata } : {};
    const image = last ? imageMetadata(last.image, last.names) : {};
    writeTo(req, req.metadataFile, `${JSON.stringify({ ...provenance, ...image }, null, 2)}\n`);
  }
}

function writeTo(req: ExportRequest, path: string, text: string): void {
  if (path === "-") void req.stdout(new TextEncoder().encode(text));
  else {
    try {
      writeFileSync(path, text);
    } catch (e) {
      throw writeFailure(e, { path: resolve(path), area: "output" });
    }
  }
}
