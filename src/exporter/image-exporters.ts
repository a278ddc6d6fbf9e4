// The exporters that write an image: `type=oci` (an OCI layout, as a tar or a directory),
// `type=docker` (a docker archive, or loaded with docker or podman for --load) and `type=image`
// (pushed when asked). Each assembles the image from the result's layers, then writes it.
import { rm } from "node:fs/promises";
import { resolve } from "node:path";
import { formatReference, parseReference } from "../registry/reference.ts";
import { writeFailure } from "../util/write-errors.ts";
import { archiveSink, writeDockerArchive, writeOciArchive, writeOciDirectory, type ImageFiles } from "./archive.ts";
import type { ExportContext, ExportedImage, Exporter, PlatformResult } from "./exporter.ts";
import { buildImage, type BuiltImage } from "./image.ts";
import { imageIndex } from "./image-index.ts";
import type { Platform } from "../oci/types.ts";
import { formatPlatform } from "../oci/platform.ts";
import { loadImage } from "./image-load.ts";
import { hasIndexAnnotations, type ImageOutput, indexAnnotationsError, namesWithCanonical } from "./image-options.ts";
import { snapshotLayers } from "./layers.ts";
import { pushToRegistry } from "./push.ts";
import { imageNames } from "./store-exporter.ts";

type Writer<O extends ImageOutput> = (out: O, image: BuiltImage, files: ImageFiles, ctx: ExportContext) => Promise<void>;

/** An image exporter: assemble, write with `write`, then name the image as BuildKit reports it. */
function imageExporter<O extends ImageOutput>(title: string, write: Writer<O>): Exporter<O> {
  return {
    title,
    async export(out, ctx): Promise<ExportedImage> {
      const image = await assemble(out, ctx);
      const names = imageNames(out, (image.index?.index ?? image.manifest).descriptor.digest);
      const files: ImageFiles = { layers: image.layers, config: image.config, manifest: image.manifest, names, mtime: ctx.input.sourceDateEpoch ?? 0, ...(image.index ? { index: image.index } : {}), ...(image.others ? { others: image.others } : {}) };
      try {
        await write(out, image, files, ctx);
      } catch (e) {
        // A partial archive is no use to anyone (and holds the space the message reports).
        if (isArchiveFile(out)) await rm(out.dest, { force: true }).catch(() => {});
        // A full, read-only or forbidden destination; the content store names the cache root itself.
        throw "dest" in out && !(out.type === "docker" && out.load) ? writeFailure(e, { path: out.dest === "-" ? "standard output" : resolve(out.dest), area: "output", needed: archiveSize(files) }) : e;
      }
      for (const name of namesWithCanonical(out, names, (image.index?.index ?? image.manifest).descriptor.digest)) ctx.progress.statusDone(`naming to ${formatReference(parseReference(name))}`);
      return { image, names };
    },
  };
}

/** Whether the output is one archive file kitbuild creates (not a directory, stdout or docker load). */
function isArchiveFile(out: ImageOutput): out is Extract<ImageOutput, { type: "oci" | "docker" }> {
  if (out.type === "oci") return out.tar && out.dest !== "-";
  return out.type === "docker" && !out.load && out.dest !== "-";
}

/** About what an archive of the image takes: its blobs (the tar headers are a rounding error). */
function archiveSize(files: ImageFiles): number {
  return [files, ...(files.others ?? [])].reduce((t, i) => t + i.layers.reduce((s, l) => s + l.size, 0) + i.config.bytes.length + i.manifest.bytes.length, 0);
}

async function assemble(out: ImageOutput, ctx: ExportContext): Promise<BuiltImage> {
  const { input, progress: p } = ctx;
  const pushed = out.type === "image" && out.push;
  const attested = input.results.map((r) => (r.attestations ?? []).filter((a) => pushed || !a.pushedOnly));
  const anyAttestations = attested.some((a) => a.length > 0);
  const several = input.results.length > 1;
  if (!anyAttestations && !several && hasIndexAnnotations(out)) throw indexAnnotationsError();
  // BuildKit writes OCI media types whenever it attaches attestations (Docker's have no index of
  // that kind), and for a docker archive of several platforms.
  const oci = anyAttestations || (several && out.type === "docker");
  p.status("exporting layers", 0);
  const images: BuiltImage[] = [];
  for (const r of input.results) images.push(await platformImage(out, r, oci, ctx));
  p.statusDone("exporting layers");
  for (const image of images) {
    p.statusDone(`exporting manifest ${image.manifest.descriptor.digest}`);
    p.statusDone(`exporting config ${image.config.descriptor.digest}`);
  }
  const [first, ...others] = images as [BuiltImage, ...BuiltImage[]];
  if (!anyAttestations && !several) return first;
  const platformImages = images.map((image, i) => ({ image, platform: input.results[i]?.platform as Platform, attestations: attested[i] ?? [] }));
  const index = await imageIndex(platformImages, out.names, ctx.services.store, ctx.signal, {
    ...(out.indexAnnotations ? { annotations: out.indexAnnotations } : {}),
    ...(out.indexDescriptorAnnotations ? { descriptorAnnotations: out.indexDescriptorAnnotations } : {}),
  }, out.ociArtifact === true);
  for (const m of index.manifests) p.statusDone(`exporting attestation manifest ${m.descriptor.digest}`);
  p.statusDone(`exporting manifest list ${index.index.descriptor.digest}`);
  return { ...first, index, ...(several ? { others } : {}) };
}

/** One platform's image: its layers from the result's snapshots, its config and manifest. */
function platformImage(out: ImageOutput, r: PlatformResult, oci: boolean, ctx: ExportContext): Promise<BuiltImage> {
  const { services, input } = ctx;
  const layers = snapshotLayers({ snapshotter: services.snapshotter, store: services.store, index: services.index, progress: ctx.progress }, r.root);
  const own = out.platformAnnotations?.[formatPlatform(r.platform)];
  const options: ImageOutput = own
    ? { ...out, annotations: { ...out.annotations, ...own.manifest }, manifestDescriptorAnnotations: { ...out.manifestDescriptorAnnotations, ...own.manifestDescriptor } }
    : out;
  return buildImage(layers, services.store, {
    frontendConfig: r.imageConfig,
    platform: r.platform,
    options: oci ? { ...options, ociMediaTypes: true } : options,
    labels: input.labels,
    sourceDateEpoch: input.sourceDateEpoch,
    buildTime: input.buildTime,
    ...(input.inlineCache ? { inlineCache: input.inlineCache } : {}),
    signal: ctx.signal,
  });
}

export const ociExporter = imageExporter<Extract<ImageOutput, { type: "oci" }>>("exporting to oci image format", async (out, _image, files, ctx) => {
  const store = ctx.services.store;
  if (!out.tar) writeOciDirectory(store, files, out.dest);
  else await writeOciArchive(store, files, archiveSink(out.dest, ctx.input.stdout), ctx.signal);
  ctx.progress.statusDone(out.tar ? "sending tarball" : `writing layout to ${out.dest}`);
});

export const dockerExporter = imageExporter<Extract<ImageOutput, { type: "docker" }>>("exporting to docker image format", async (out, _image, files, ctx) => {
  if (out.load) return loadImage(files, out.context, ctx);
  await writeDockerArchive(ctx.services.store, files, archiveSink(out.dest, ctx.input.stdout), ctx.signal);
  ctx.progress.statusDone("sending tarball");
});

export const registryExporter = imageExporter<Extract<ImageOutput, { type: "image" }>>("exporting to image", async (out, image, _files, ctx) => {
  if (!out.push) return;
  if (out.insecure) for (const name of out.names) ctx.services.registry.allowInsecure(parseReference(name).domain);
  await pushToRegistry({ client: ctx.services.registry, store: ctx.services.store, image, names: out.names, byDigest: out.pushByDigest, progress: ctx.progress, signal: ctx.signal });
});

