// The layers of a built filesystem for an image: base image layers exactly as pulled (their media
// type renamed between the Docker and OCI spellings, never recompressed unless force-compression
// asks for another compression), the others diffed from their snapshots, compressed, stored and
// remembered per settings, so the next export of the same snapshots reuses the same blobs.
import { stat } from "node:fs/promises";
import { getLayerBlob, type LayerBlob, PULLED, putLayerBlob } from "../cache/layer-blobs.ts";
import type { CacheIndex } from "../cache/index.ts";
import type { ContentStore } from "../content/store.ts";
import {
  MEDIA_DOCKER_LAYER, MEDIA_DOCKER_LAYER_GZIP, MEDIA_DOCKER_LAYER_ZSTD, MEDIA_OCI_LAYER, MEDIA_OCI_LAYER_GZIP, MEDIA_OCI_LAYER_ZSTD, layerCompression,
} from "../oci/media-types.ts";
import type { Digest } from "../oci/types.ts";
import type { Snapshotter } from "../snapshot/snapshotter.ts";
import type { VertexProgress } from "../util/progress.ts";
import { CompressPool, compressStream } from "./compress.ts";
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
          const pulled = usable(deps, getLayerBlob(deps.index.db, id, PULLED), opts.ociMediaTypes, opts.force ? opts.compression : undefined);
          if (pulled) {
            baseLayers = out.length + 1;
            out.push(pulled);
            continue;
          }
          if (built.length >= LAYERS_AT_ONCE) await built[built.length - LAYERS_AT_ONCE];
          const layer = builtLayer(deps, id, { ...opts, signal }, pool);
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

type BuildOpts = { compression: Compression; level?: number; ociMediaTypes: boolean; sourceDateEpoch?: number; signal: AbortSignal };

async function builtLayer(deps: SnapshotLayersDeps, id: number, opts: BuildOpts, pool: CompressPool): Promise<ExportedLayer> {
  // Everything that decides the bytes is in the variant: the compression, its level, and the epoch
  // the file times were clamped to.
  const variant = `${opts.compression}:${opts.level ?? "default"}:${opts.sourceDateEpoch ?? "-"}`;
  const known = getLayerBlob(deps.index.db, id, variant);
  if (known && deps.store.hasSync(known.digest as Digest)) {
    return { descriptor: { mediaType: layerMediaType(opts.compression, opts.ociMediaTypes), digest: known.digest as Digest, size: known.size }, diffId: known.diffId as Digest };
  }
  const statusId = `exporting layer of snapshot ${id}`;
  deps.progress.status(statusId, 0);
  const diff = deps.snapshotter.diff(id, { sourceDateEpoch: opts.sourceDateEpoch, signal: opts.signal });
  const compressed = compressStream(diff.stream, opts.compression, opts.level, pool);
  const digest = await deps.store.write(compressed, {}, opts.signal);
  const { diffId } = await diff.done;
  const size = (await stat(deps.store.path(digest))).size;
  const mediaType = layerMediaType(opts.compression, opts.ociMediaTypes);
  putLayerBlob(deps.index.db, id, variant, { mediaType, digest, size, diffId });
  deps.progress.statusDone(statusId);
  return { descriptor: { mediaType, digest, size }, diffId };
}

/** As BuildKit names layers: a zstd layer in a Docker manifest gets containerd's `….diff.tar.zstd`. */
function layerMediaType(compression: Compression, oci: boolean): string {
  if (compression === "zstd") return oci ? MEDIA_OCI_LAYER_ZSTD : MEDIA_DOCKER_LAYER_ZSTD;
  if (compression === "gzip") return oci ? MEDIA_OCI_LAYER_GZIP : MEDIA_DOCKER_LAYER_GZIP;
  return oci ? MEDIA_OCI_LAYER : MEDIA_DOCKER_LAYER;
}
