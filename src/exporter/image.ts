// From a built filesystem to an image: its layers (base layers reused as pulled), the config
// BuildKit would write, and the manifest, all as blobs; the writers (archive.ts) and the registry
// push take it from there.
import type { ContentStore } from "../content/store.ts";
import type { Descriptor, Digest, ImageConfig, InlineCacheDoc, Platform } from "../oci/types.ts";
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

export type BuiltImage = {
  layers: Descriptor[];
  config: Blob;
  manifest: Blob;
  configDoc: ImageConfig;
  sources: Map<string, string>;
  /** The index over the manifests and their attestations, when the build has attestations or several platforms. */
  index?: ExportedIndex;
  /** The other platforms' images, after this one (the first platform asked for), when there are several. */
  others?: BuiltImage[];
};

/** An index written around the image: the index, its other manifests (children first) and their blobs. */
export type ExportedIndex = { index: Blob; manifests: Blob[]; blobs: Blob[] };

export type ImageRequest = {
  frontendConfig: ImageConfig;
  platform: Platform;
  options: ImageOptions;
  labels: Record<string, string>;
  /** SOURCE_DATE_EPOCH, when set. */
  sourceDateEpoch: number | undefined;
  /** The build's start, seconds since the epoch (used when SOURCE_DATE_EPOCH is not set). */
  buildTime: number;
  /** Cache entries to carry in the config (`--cache-to type=inline`): each output as its chain of DiffIDs. */
  inlineCache?: InlineCacheEntries;
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
  const finalConfig = finalizeImageConfig({
    config: req.frontendConfig,
    diffIds: layers.map((l) => l.diffId),
    baseLayers,
    created: epoch ?? req.buildTime,
    fromEpoch: epoch !== undefined,
    labels: req.labels,
  });
  const configDoc = req.inlineCache ? { ...finalConfig, "kitbuild.cache.v1": inlineCacheDoc(req.inlineCache, layers) } : finalConfig;
  const config = configBlob(configDoc, options.ociMediaTypes);
  const manifest = manifestBlob(config.descriptor, layers.map((l) => l.descriptor), options.ociMediaTypes, options.annotations, req.platform);
  if (nonEmpty(options.manifestDescriptorAnnotations)) manifest.descriptor.annotations = { ...options.manifestDescriptorAnnotations };
  // Config and manifest go to the content store too: a push and `kitbuild du` find them there.
  await store.writeBytes(config.bytes, { digest: config.descriptor.digest }, req.signal);
  await store.writeBytes(manifest.bytes, { digest: manifest.descriptor.digest }, req.signal);
  const sources = new Map(layers.flatMap((l) => (l.source ? [[l.descriptor.digest, l.source] as const] : [])));
  return { layers: layers.map((l) => l.descriptor), config, manifest, configDoc, sources };
}

const nonEmpty = (r: Record<string, string> | undefined): r is Record<string, string> => r !== undefined && Object.keys(r).length > 0;

/** Cache keys and their outputs' layer chains by DiffID, as `--cache-to type=inline` exports them. */
export type InlineCacheEntries = Record<string, { name: string; diffIds: Digest[][] }>;

/** The inline cache over the image's own layers; entries whose chains are not the image's are left out. */
function inlineCacheDoc(entries: InlineCacheEntries, layers: ExportedLayer[]): InlineCacheDoc {
  const indexOf = new Map(layers.map((l, i) => [l.diffId as string, i]));
  const doc: InlineCacheDoc = {
    kitbuildCache: 1,
    layers: layers.map((l) => ({ digest: l.descriptor.digest, size: l.descriptor.size, mediaType: l.descriptor.mediaType, diffId: l.diffId })),
    entries: {},
  };
  // Keys in order, so the same steps give the same config whichever order the build met them in.
  for (const [key, e] of Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const outputs = e.diffIds.map((chain) => chain.map((d) => indexOf.get(d) ?? -1));
    if (outputs.every((o) => o.every((i, at) => i === at))) doc.entries[key] = { name: e.name, outputs };
  }
  return doc;
}

/** buildx's --metadata-file keys for an image output: the digest and descriptor are the index's when there is one. */
export function imageMetadata(img: BuiltImage, names: string[]): Record<string, unknown> {
  const top = img.index?.index.descriptor ?? img.manifest.descriptor;
  const { platform, ...descriptor } = top;
  // A lone manifest's descriptor names its platform, as BuildKit's (Go's field order).
  const platformJson = platform && !img.index ? { platform: { architecture: platform.architecture, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}) } } : {};
  // An index of several platforms has no one config (BuildKit leaves the key out then).
  const out: Record<string, unknown> = {
    ...(img.others?.length ? {} : { "containerimage.config.digest": img.config.descriptor.digest }),
    "containerimage.descriptor": { ...descriptor, ...platformJson },
    "containerimage.digest": top.digest,
  };
  if (names.length > 0) out["image.name"] = names.join(",");
  return out;
}
