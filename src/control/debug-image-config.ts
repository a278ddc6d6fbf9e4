// `kitbuild debug image-config`: the whole image config the build would write, without running it.
// The result is looked up in the cache (no step runs; a step not in the cache ends the lookup):
// when it is there, its layers give every rootfs.diff_id, as the export would list them. Else the
// base image's diff_ids are known and the new layers' are not. `created` (and the times of new
// history entries) is SOURCE_DATE_EPOCH's, or the build's start time, unknown before it runs.
import { snapshotLayers } from "../exporter/layers.ts";
import { finalizeImageConfig } from "../exporter/image-config.ts";
import type { Digest, ImageConfig } from "../oci/types.ts";
import { KitError } from "../util/errors.ts";
import { type ProgressSink, vertexProgress } from "../util/progress.ts";
import { withConversion } from "./debug.ts";
import type { ConvertResult } from "../frontend/dockerfile/convert/convert.ts";
import { formatPlatform } from "../oci/platform.ts";
import { snapshotIdOf } from "./refs.ts";
import type { DebugRequest } from "./request.ts";
import type { BuildSession } from "./session.ts";
import { definitionSolver } from "./solve-definition.ts";

/** The config as the build would write it, and what of it cannot be known without running the build. */
export type ImageConfigPreview = { config: ImageConfig; unknown: string[] };

/** A time no build has (9999-12-31T23:59:59Z), stood in for the build's start and removed again. */
const STAND_IN_TIME = 253_402_300_799;

type Layers = { diffIds: Digest[]; baseLayers: number } | { missing: string };

/** One preview per platform, in the order asked for (a single one unless --platform named several). */
export function previewImageConfigs(req: DebugRequest, progress: ProgressSink, signal: AbortSignal): Promise<Array<ImageConfigPreview & { platform: string }>> {
  return withConversion(req, progress, signal, async (result, sessionOf) => {
    const out: Array<ImageConfigPreview & { platform: string }> = [];
    for (const p of result.platforms) out.push({ platform: formatPlatform(p.platform), ...(await preview(req, p.converted, await sessionOf(), signal)) });
    return out;
  });
}

async function preview(req: DebugRequest, result: ConvertResult, session: BuildSession, signal: AbortSignal): Promise<ImageConfigPreview> {
  const epoch = sourceDateEpoch(req);
  const layers = await cachedLayers(result, session, signal);
  const unknown: string[] = [];
  const frontend = result.image;
  const baseIds = frontend.rootfs?.diff_ids ?? [];
  const placeholder = "sha256:unknown" as Digest;
  let diffIds: Digest[];
  if ("missing" in layers) {
    const made = layerCount(frontend) - baseIds.length;
    diffIds = [...baseIds, ...Array<Digest>(Math.max(made, 0)).fill(placeholder)];
    if (made > 0) unknown.push(`rootfs.diff_ids: the last ${made} of ${diffIds.length} (the layers of steps not in the cache; ${layers.missing})`);
  } else diffIds = layers.diffIds;
  // Seconds since the epoch; without SOURCE_DATE_EPOCH the build's start, a stand-in removed below.
  const created = epoch ?? STAND_IN_TIME;
  const config = finalizeImageConfig({ config: frontend, diffIds, baseLayers: "missing" in layers ? baseIds.length : layers.baseLayers, created, fromEpoch: epoch !== undefined, labels: {} });
  config.rootfs.diff_ids = config.rootfs.diff_ids.filter((d) => d !== placeholder);
  if (epoch === undefined) {
    const standIn = config.created;
    delete config.created;
    for (const h of config.history ?? []) if (h.created === standIn) delete h.created;
    unknown.push("created (and the times of the history entries this build adds): the time the build runs, as SOURCE_DATE_EPOCH is not set");
  }
  return { config, unknown };
}

/** The result's layers, if the whole build is in the cache (looked up, nothing run). */
async function cachedLayers(result: ConvertResult, session: BuildSession, signal: AbortSignal): Promise<Layers> {
  const solver = definitionSolver(session, result.definition, { lookupOnly: true, maxParallelism: 4, noCache: false, progress: () => {}, signal });
  let root;
  try {
    root = await solver.solve();
  } catch (e) {
    if (signal.aborted) throw e;
    if (e instanceof KitError && e.code === "E_NOT_CACHED") return { missing: e.message };
    // A lookup that cannot finish (a secret the build would be given, say) leaves the new layers unknown, not the whole config.
    return { missing: `the cache could not be looked up: ${e instanceof Error ? e.message : String(e)}` };
  }
  try {
    const env = session.env;
    const source = snapshotLayers({ snapshotter: env.snapshotter, store: env.store, index: env.index, progress: vertexProgress(() => {}, "debug") }, snapshotIdOf(root));
    // The layers as a default image output lists them (gzip, Docker media types): their diff_ids do not depend on either.
    const { layers, baseLayers } = await source.layers({ compression: "gzip", force: false, ociMediaTypes: false, signal });
    return { diffIds: layers.map((l) => l.diffId), baseLayers };
  } finally {
    await root.release();
  }
}

/** The number of layers the frontend's history says the image has. */
function layerCount(image: ImageConfig): number {
  return (image.history ?? []).filter((h) => !h.empty_layer).length;
}

/** SOURCE_DATE_EPOCH as the build reads it: the build arg, else the environment. */
function sourceDateEpoch(req: DebugRequest): number | undefined {
  const text = req.frontend.buildArgs.SOURCE_DATE_EPOCH ?? req.env.SOURCE_DATE_EPOCH;
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}
