// Exporting a build's result to every output it asked for, each by the exporter its type names
// (exporter/exporters.ts), image outputs also kept in kitbuild's image store
// (exporter/store-exporter.ts), then --iidfile and --metadata-file (from the last image written, if any).
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { ExportedImage, ExportInput, PlatformResult } from "../exporter/exporter.ts";
import { exporterFor } from "../exporter/exporters.ts";
import { imageMetadata } from "../exporter/image.ts";
import { keepInStore, type KeptImage, keptInStore } from "../exporter/store-exporter.ts";
import type { OutputSpec } from "../exporter/image-options.ts";
import { type ProgressSink, progressTask, vertexWarningJson, type WarningEvent } from "../util/progress.ts";
import { writeFailure } from "../util/write-errors.ts";
import type { BuildEnvironment } from "./environment.ts";

export type ExportRequest = Omit<ExportInput, "results"> & {
  outputs: OutputSpec[];
  iidFile: string | undefined;
  metadataFile: string | undefined;
  /** The build checks' warnings, for `buildx.build.warnings`. */
  warnings?: readonly WarningEvent[];
  /** --metadata-file's provenance keys (buildx.build.provenance, or one per platform), when the build made provenance. */
  provenanceMetadata?: Record<string, unknown>;
};

/** The image the build wrote last (its ID is what -q prints), and where kitbuild's image store keeps it. */
export type ExportOutcome = { imageId?: string; kept?: KeptImage & { only: boolean } };

/** `results`: one per platform, in the order asked for. */
export async function exportResult(env: BuildEnvironment, req: ExportRequest, results: PlatformResult[], progress: ProgressSink, signal: AbortSignal): Promise<ExportOutcome> {
  const input: ExportInput = { ...req, results };
  let last: ExportedImage | undefined;
  let kept: KeptImage | undefined;
  for (const [i, out] of req.outputs.entries()) {
    const exporter = exporterFor(out);
    const image = await progressTask(progress, `export-${i}`, exporter.title, async (p) => {
      const exported = await exporter.export(out, { services: env, input, progress: p, signal });
      // The first platform's image: the store keeps one image per name.
      if (exported && keptInStore(out)) kept = keepInStore(exported, out, results[0]?.root ?? null, env, p);
      return exported;
    });
    if (image) last = image;
  }
  writeBuildMetadata(req, last);
  // "only": the image went nowhere else (no push, no load), so the user is told how to get it out.
  const only = req.outputs.every((o) => o.type === "image" && !o.push);
  return { ...(last ? { imageId: imageId(last) } : {}), ...(kept ? { kept: { ...kept, only } } : {}) };
}

/** What -q and --iidfile give, as buildx: the config digest, or the index's digest for several platforms. */
function imageId(exported: ExportedImage): string {
  const { image } = exported;
  return image.others?.length && image.index ? image.index.index.descriptor.digest : image.config.descriptor.digest;
}

/**
 * --iidfile (the image ID: its config digest, as docker; only when an image was written) and
 * --metadata-file (buildx's keys; for every build): the image's, `buildx.build.ref`,
 * `buildx.build.provenance` when the build made provenance (also without an image output, as
 * buildx) and, when BUILDX_METADATA_WARNINGS is true (buildx's switch, off by default),
 * `buildx.build.warnings`.
 */
function writeBuildMetadata(req: ExportRequest, last: ExportedImage | undefined): void {
  if (req.iidFile && last) writeTo(req, req.iidFile, imageId(last));
  if (!req.metadataFile) return;
  const metadata: Record<string, unknown> = { ...(last ? imageMetadata(last.image, last.names) : {}), "buildx.build.ref": buildRef() };
  Object.assign(metadata, req.provenanceMetadata ?? {});
  if (metadataWarningsEnabled(req.env) && req.warnings?.length) metadata["buildx.build.warnings"] = req.warnings.map(vertexWarningJson);
  writeTo(req, req.metadataFile, `${JSON.stringify(sortedKeys(metadata), null, 2)}\n`);
}

/** buildx's "builder/node/ref": kitbuild is its own builder with one node, the ref random as BuildKit's identity.NewID (25 characters of [0-9a-z]). */
export function buildRef(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const id = BigInt(`0x${Buffer.from(bytes).toString("hex")}`).toString(36).padStart(25, "0").slice(-25);
  return `kitbuild/kitbuild/${id}`;
}

/** buildx's confutil.MetadataWarningsEnabled: BUILDX_METADATA_WARNINGS parsed as Go's strconv.ParseBool. */
function metadataWarningsEnabled(env: Record<string, string | undefined>): boolean {
  return /^(1|t|T|TRUE|true|True)$/.test(env.BUILDX_METADATA_WARNINGS ?? "");
}

/** Keys in byte order, as Go's encoding/json writes a map (buildx's metadata is one). */
function sortedKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
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
