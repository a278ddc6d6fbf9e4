// The layers of a built filesystem for an image: base image layers exactly as pulled (their media
// type renamed between the Docker and OCI spellings, never recompressed unless force-compression
// asks for another compression), the others diffed from their snapshots, compressed, stored and
// remembered per settings, so the next export of the same snapshots reuses the same blobs.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { stream } from "../util/lazy-modules.ts";
import { decompressor } from "../archive/decompress.ts";
import { getLayerBlob, type LayerBlob, PULLED, putLayerBlob } from "../cache/layer-blobs.ts";
import type { CacheIndex } from "../cache/index.ts";
import type { ContentStore } from "../content/store.ts";
import {
  MEDIA_DOCKER_LAYER, MEDIA_DOCKER_LAYER_GZIP, MEDIA_DOCKER_LAYER_ZSTD, MEDIA_OCI_LAYER, MEDIA_OCI_LAYER_GZIP, MEDIA_OCI_LAYER_ZSTD, layerCompression,
} from "../oci/media-types.ts";
import type { Digest } from "../oci/types.ts";
import type { Snapshotter } from "../snapshot/snapshotter.ts";
import type { VertexProgress } from "../util/progress.ts";
import { CompressPool, compressStream, type Recycle } from "./compress.ts";
import type { ExportedLayer, LayerSource } from "./image.ts";
import type { Compression } from "./image-options.ts";

export type SnapshotLayersDeps = { snapshotter: Snapshotter; store: ContentStore; index: CacheIndex; progress: VertexProgress };

/**
 * Built layers diffed and compressed at once: while one layer's last chunks are compressed (or its
 * blob is synced to disk) the next one's first chunks keep the workers busy.
 */
const LAYERS_AT_ONCE = 2;

/** The layers of snapshot `root` (null: an empty filesystem has none). */
export function snapshotLayers(deps: SnapshotLayersDeps, root: number | null): LayerSource {
  return {
    async layers(opts) {
      const ids = root === null ? [] : deps.snapshotter.layers(root);
      const out: Array<ExportedLayer | Promise<ExportedLayer>> = [];
      const built: Array<Promise<ExportedLayer>> = [];
      let baseLayers = 0;
      // The first failure stops the other layers being built; they are waited for before it is thrown.
      const failed = new AbortController();
      const signal = AbortSignal.any([opts.signal, failed.signal]);
      let firstError: unknown;
      using pool = new CompressPool();
      try {
        for (const id of ids) {
          const blob = getLayerBlob(deps.index.db, id, PULLED);
          const pulled = usable(deps, blob, opts.ociMediaTypes, opts.force ? opts.compression : undefined);
          if (pulled) {
            baseLayers = out.length + 1;
            out.push(pulled);
            continue;
          }
          // force-compression of a pulled layer in another compression: its bytes recompressed, as
          // BuildKit converts it (a diff of the unpacked snapshot would be another tar, another DiffID).
          const convert = blob && opts.force && opts.sourceDateEpoch === undefined && usable(deps, blob, true) !== undefined;
          if (convert) baseLayers = out.length + 1;
          if (built.length >= LAYERS_AT_ONCE) await built[built.length - LAYERS_AT_ONCE];
          const layer = convert ? convertedLayer(deps, id, blob, { ...opts, signal }, pool) : builtLayer(deps, id, { ...opts, signal }, pool);
          layer.catch((e: unknown) => {
            firstError ??= e;
            failed.abort();
          });
          built.push(layer);
          out.push(layer);
        }
        return { layers: await Promise.all(out), baseLayers };
      } catch (e) {
        failed.abort();
        await Promise.allSettled(built);
        throw firstError ?? e;
      }
    },
  };
}

/**
 * A pulled layer as this export will list it, if its blob is still in the store and fits. With
 * force-compression (`forced`: the compression asked for) only a blob already in that compression
 * fits: BuildKit converts the others and keeps those as they are.
 */
function usable(deps: SnapshotLayersDeps, blob: LayerBlob | undefined, oci: boolean, forced?: Compression): ExportedLayer | undefined {
  if (!blob || !deps.store.hasSync(blob.digest as Digest)) return undefined;
  const compression = layerCompression(blob.mediaType);
  if (!compression) return undefined;
  if (forced !== undefined && compression !== forced) return undefined;
  const layer: ExportedLayer = { descriptor: { mediaType: layerMediaType(compression, oci), digest: blob.digest as Digest, size: blob.size }, diffId: blob.diffId as Digest };
  if (blob.source) layer.source = blob.source;
  return layer;
}

/** What decides a built layer's bytes: its compression, the level, and the epoch file times are clamped to. */
export type LayerVariant = { compression: Compression; level?: number; sourceDateEpoch?: number };
type BuildOpts = LayerVariant & { ociMediaTypes: boolean; signal: AbortSignal };
type BlobDeps = Omit<SnapshotLayersDeps, "progress">;
type Blob = { digest: Digest; size: number; diffId: Digest };

const variantKey = (v: LayerVariant) => `${v.compression}:${v.level ?? "default"}:${v.sourceDateEpoch ?? "-"}`;

/** Layer blobs being made ahead of their export (prebuildLayer), by store, snapshot and variant. */
const ahead = new Map<string, Promise<void>>();
const aheadKey = (deps: BlobDeps, id: number, variant: string) => `${deps.store.root}|${id}|${variant}`;
/** The last layer made ahead: they are made one at a time, so a build of many large layers does not diff them all at once. */
let aheadQueue: Promise<void> = Promise.resolve();

/**
 * Makes snapshot `id`'s layer blob now, while the build goes on (after the ones asked for before),
 * so that an export asking for it waits for this one instead of making it again. Settles when the
 * blob is stored and remembered, when making it failed (the export then tries itself), or when
 * `signal` stopped it.
 */
export function prebuildLayer(deps: BlobDeps, id: number, variant: LayerVariant, signal: AbortSignal): Promise<void> {
  const key = aheadKey(deps, id, variantKey(variant));
  const running = ahead.get(key);
  if (running) return running;
  if (rememberedBlob(deps, id, variantKey(variant))) return Promise.resolve();
  const made = aheadQueue
    .then(async () => {
      if (signal.aborted || rememberedBlob(deps, id, variantKey(variant))) return;
      using pool = new CompressPool();
      await makeBlob(deps, id, variant, pool, signal);
    })
    .catch(() => {})
    .finally(() => ahead.delete(key));
  ahead.set(key, made);
  aheadQueue = made;
  return made;
}

function rememberedBlob(deps: BlobDeps, id: number, variant: string): Blob | undefined {
  const known = getLayerBlob(deps.index.db, id, variant);
  if (!known || !deps.store.hasSync(known.digest as Digest)) return undefined;
  return { digest: known.digest as Digest, size: known.size, diffId: known.diffId as Digest };
}

async function builtLayer(deps: SnapshotLayersDeps, id: number, opts: BuildOpts, pool: CompressPool): Promise<ExportedLayer> {
  const variant = variantKey(opts);
  const mediaType = layerMediaType(opts.compression, opts.ociMediaTypes);
  const statusId = `exporting layer of snapshot ${id}`;
  const inFlight = ahead.get(aheadKey(deps, id, variant));
  if (inFlight) deps.progress.status(statusId, 0);
  await inFlight;
  const known = rememberedBlob(deps, id, variant);
  if (!known && !inFlight) deps.progress.status(statusId, 0);
  const { digest, size, diffId } = known ?? (await makeBlob(deps, id, opts, pool, opts.signal));
  if (!known || inFlight) deps.progress.statusDone(statusId);
  return { descriptor: { mediaType, digest, size }, diffId };
}

/** Pulled layer `blob` (of snapshot `id`) recompressed as `opts` asks; its DiffID stays. */
async function convertedLayer(deps: SnapshotLayersDeps, id: number, blob: LayerBlob, opts: BuildOpts, pool: CompressPool): Promise<ExportedLayer> {
  const variant = `${variantKey(opts)}:converted`;
  const mediaType = layerMediaType(opts.compression, opts.ociMediaTypes);
  const known = rememberedBlob(deps, id, variant);
  if (known) return { descriptor: { mediaType, digest: known.digest, size: known.size }, diffId: known.diffId };
  const statusId = `converting layer ${blob.digest.slice(7, 19)} to ${opts.compression}`;
  deps.progress.status(statusId, 0);
  const source = createReadStream(deps.store.path(blob.digest as Digest), { signal: opts.signal });
  const plain = decompressor(layerCompression(blob.mediaType) ?? "uncompressed", opts.signal);
  if (plain) stream().pipeline(source, plain, () => {}); // an error reaches the reader of `plain`
  const { digest, size } = await storeLayer(deps, id, variant, plain ?? source, () => blob.diffId as Digest, opts, pool, opts.signal);
  deps.progress.statusDone(statusId);
  return { descriptor: { mediaType, digest, size }, diffId: blob.diffId as Digest };
}

/** Diffs, compresses and stores snapshot `id`'s layer, and remembers it under its variant. */
async function makeBlob(deps: BlobDeps, id: number, variant: LayerVariant, pool: CompressPool, signal: AbortSignal): Promise<Blob> {
  const diff = deps.snapshotter.diff(id, { sourceDateEpoch: variant.sourceDateEpoch, signal });
  return storeLayer(deps, id, variantKey(variant), diff.stream, async () => (await diff.done).diffId, variant, pool, signal, diff.recycle);
}

/**
 * Compresses the layer tar `plain`, stores it and remembers it as snapshot `id`'s blob of `variant`.
 * `diffId` is asked for once the tar has been read to its end.
 */
async function storeLayer(
  deps: BlobDeps, id: number, variant: string, plain: Readable, diffId: () => Digest | Promise<Digest>, settings: LayerVariant, pool: CompressPool, signal: AbortSignal, recycle?: Recycle,
): Promise<Blob> {
  const digest = await deps.store.write(compressStream(plain, settings.compression, settings.level, pool, recycle), {}, signal);
  const blob = { digest, size: (await stat(deps.store.path(digest))).size, diffId: await diffId() };
  // The media type recorded is only the compression's: each export names it for its manifest.
  putLayerBlob(deps.index.db, id, variant, { mediaType: layerMediaType(settings.compression, true), ...blob });
  return blob;
}

/** As BuildKit names layers: a zstd layer in a Docker manifest gets containerd's `….diff.tar.zstd`. */
function layerMediaType(compression: Compression, oci: boolean): string {
  if (compression === "zstd") return oci ? MEDIA_OCI_LAYER_ZSTD : MEDIA_DOCKER_LAYER_ZSTD;
  if (compression === "gzip") return oci ? MEDIA_OCI_LAYER_GZIP : MEDIA_DOCKER_LAYER_GZIP;
  return oci ? MEDIA_OCI_LAYER : MEDIA_DOCKER_LAYER;
}
