// kitbuild's image store as the place an image output also lands, as docker's image store with the
// docker driver: `-t NAME` alone (or `-q`) exports to `type=image` without a push, and every image
// output that stays on this machine or goes to a registry (type=image, --push, --load) is kept
// under its names too. The blobs are the ones the export just wrote (layers memoized per settings
// in layer_blobs, base layers as pulled), so the kept image is exactly the exported one.
import { keepImage } from "../cache/image-names.ts";
import { chainIds } from "../cache/layer-chains.ts";
import { formatReference, parseReference } from "../registry/reference.ts";
import type { VertexProgress } from "../util/progress.ts";
import type { ExportedImage, ExportServices } from "./exporter.ts";
import { defaultImageOptions, type ImageOutput, type OutputSpec } from "./image-options.ts";

/** What the store now holds for an export: the image ID (config digest) and its names, normalized. */
export type KeptImage = { id: string; manifest: string; names: string[] };

/** The output a build with `-t NAME` (or `-q`) and no `-o`/`--push`/`--load` writes: the image, kept. */
export function storeOutput(tags: readonly string[]): OutputSpec {
  return { type: "image", push: false, ...defaultImageOptions("image"), names: [...tags] };
}

/** The names an image output gives its image: its own, else "PREFIX@DIGEST" with dangling-name-prefix, else none. */
export function imageNames(out: ImageOutput, manifestDigest: string): string[] {
  if (out.names.length > 0 || !out.danglingNamePrefix) return out.names;
  return [`${out.danglingNamePrefix}@${manifestDigest}`];
}

/** Whether an output's image is kept in the store: type=image (pushed or not) and --load. */
export function keptInStore(out: OutputSpec): out is ImageOutput {
  return out.type === "image" || (out.type === "docker" && out.load);
}

/** The normalized form a name is kept under ("base" is "docker.io/library/base:latest"). */
export function storeName(name: string): string {
  return formatReference(parseReference(name));
}

/**
 * Records `exported` under its names (none: a dangling image, as docker keeps one). `root` is the
 * snapshot it was exported from: when the layers are its snapshots as they are (no file times
 * rewritten), they are recorded as the image's layer chain, so FROM this image uses them without
 * unpacking anything.
 */
export function keepInStore(exported: ExportedImage, out: ImageOutput, root: number | null, services: ExportServices, progress: VertexProgress): KeptImage {
  const { image } = exported;
  // "NAME@DIGEST" (dangling-name-prefix) is kept as docker keeps it: listed as NAME with no tag.
  const names = exported.names.map(storeName);
  const images = [image, ...(image.others ?? [])];
  const size = images.reduce((t, i) => t + i.layers.reduce((s, l) => s + l.size, 0) + i.config.bytes.length + i.manifest.bytes.length, 0);
  // Several platforms are kept as their index (its ID too, as docker's containerd store shows one);
  // FROM of it picks the platform asked for (source/stored-image.ts).
  const top = image.others?.length && image.index ? image.index.index.descriptor : undefined;
  const manifest = top?.digest ?? image.manifest.descriptor.digest;
  const id = top?.digest ?? image.config.descriptor.digest;
  // CREATED is the image's own time, as docker shows it (SOURCE_DATE_EPOCH when that was set).
  const created = Date.parse(image.configDoc.created ?? "") || Date.now();
  keepImage(services.index.db, { manifest, config: id, mediaType: top?.mediaType ?? image.manifest.descriptor.mediaType, size, created }, names);
  if (!out.rewriteTimestamp) shareBuiltLayers(services, root, image.configDoc.rootfs.diff_ids);
  progress.statusDone(`writing image ${id}`);
  return { id, manifest, names };
}

/**
 * Records each built layer's snapshot under its chain ID, as if unpacked from the image, when the
 * snapshots are a plain stack (each on the one below; a COPY --link merge is not) matching the
 * image's layers one to one. Pulled layers are recorded already; a recorded chain is kept.
 */
function shareBuiltLayers(services: ExportServices, root: number | null, diffIds: readonly string[]): void {
  if (root === null) return;
  const { index } = services;
  const ids = services.snapshotter.layers(root);
  if (ids.length !== diffIds.length) return;
  const stacked = ids.every((id, i) => {
    const rec = index.getSnapshot(id);
    return rec?.state === "committed" && rec.parent === (i === 0 ? null : ids[i - 1]);
  });
  if (!stacked) return;
  for (const [i, chainId] of chainIds(diffIds).entries()) index.putLayerSnapshot(chainId, ids[i] as number, diffIds[i] as string);
}
