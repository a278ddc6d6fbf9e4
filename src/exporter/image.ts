// From a built filesystem to an image: its layers (base layers reused as pulled), the config
// BuildKit would write, and the manifest, all as blobs; the writers (archive.ts) and the registry
// push take it from there.
import type { ContentStore } from "../content/store.ts";
import type { Descriptor, Digest, ImageConfig, Platform } from "../oci/types.ts";
import { finalizeImageConfig } from "./image-config.ts";
import type { ImageOptions } from "./image-options.ts";
import { type Blob, configBlob, manifestBlob } from "./manifest.ts";

/** A layer of the image; `source` is the repository a base layer was pulled from ("host/path"). */
export type ExportedLayer = { descriptor: Descriptor; diffId: Digest; source?: string };

/** Where an image's layers come from (the snapshotter, with blobs cached in the content store). */
export interface LayerSource {
  /**
   * The layers of the built filesystem, bottom first: base image layers as pulled (unless
   * `force` recompresses them), the others diffed and compressed as asked.
   */
  layers(opts: { compression: ImageOptions["compression"]; level?: number; force: boolean; ociMediaTypes: boolean; sourceDateEpoch?: number; signal: AbortSignal }): Promise<{
    layers: ExportedLayer[];
    baseLayers: number;
  }>;
}

export type BuiltImage = { layers: Descriptor[]; config: Blob; manifest: Blob; configDoc: ImageConfig; sources: Map<string, string> };

export type ImageRequest = {
  frontendConfig: ImageConfig;
  platform: Platform;
  options: ImageOptions;
  labels: Record<string, string>;
  /** SOURCE_DATE_EPOCH, when set. */
  sourceDateEpoch: number | undefined;
  /** The build's start, seconds since the epoch (used when SOURCE_DATE_EPOCH is not set). */
  buildTime: number;
  signal: AbortSignal;
};

export async function buildImage(source: LayerSource, store: ContentStore, req: ImageRequest): Promise<BuiltImage> {
  const { options } = req;
  const epoch = req.sourceDateEpoch;
  const { layers, baseLayers } = await source.layers({
    compression: options.compression,
    level: options.compressionLevel,
    force: options.forceCompression,
    ociMediaTypes: options.ociMediaTypes,
    sourceDateEpoch: options.rewriteTimestamp ? epoch : undefined,
    signal: req.signal,
  });
  const configDoc = finalizeImageConfig({
    config: req.frontendConfig,
    diffIds: layers.map((l) => l.diffId),
    baseLayers,
    created: epoch ?? req.buildTime,
    fromEpoch: epoch !== undefined,
    labels: req.labels,
  });
  const config = configBlob(configDoc, options.ociMediaTypes);
  const manifest = manifestBlob(config.descriptor, layers.map((l) => l.descriptor), options.ociMediaTypes, options.annotations, req.platform);
  // Config and manifest go to the content store too: a push and `kitbuild du` find them there.
  await store.writeBytes(config.bytes, { digest: config.descriptor.digest }, req.signal);
  await store.writeBytes(manifest.bytes, { digest: manifest.descriptor.digest }, req.signal);
  const sources = new Map(layers.flatMap((l) => (l.source ? [[l.descriptor.digest, l.source] as const] : [])));
  return { layers: layers.map((l) => l.descriptor), config, manifest, configDoc, sources };
}

/** buildx's --metadata-file keys for an image output. */
export function imageMetadata(img: BuiltImage, names: string[]): Record<string, string> {
  const out: Record<string, string> = {
    "containerimage.digest": img.manifest.descriptor.digest,
    "containerimage.config.digest": img.config.descriptor.digest,
  };
  if (names.length > 0) out["image.name"] = names.join(",");
  return out;
}
