// Exporting a build's result to every output it asked for: the filesystem (local, tar) and images
// (OCI layout, docker archive or `docker load`, a registry push), plus --iidfile and
// --metadata-file. Images are assembled once per set of image options.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { Writable } from "node:stream";
import { archiveSink, writeDockerArchive, writeOciArchive, writeOciDirectory, type ImageFiles } from "../exporter/archive.ts";
import { buildImage, type BuiltImage, imageMetadata } from "../exporter/image.ts";
import type { ImageOutput, OutputSpec } from "../exporter/image-options.ts";
import { snapshotLayers } from "../exporter/layers.ts";
import { exportLocal } from "../exporter/local.ts";
import { pushToRegistry } from "../exporter/push.ts";
import { exportTar } from "../exporter/tar.ts";
import type { ImageConfig, Platform } from "../oci/types.ts";
import { formatReference, parseReference } from "../registry/reference.ts";
import { KitError } from "../util/errors.ts";
import { type ProgressSink, progressTask, type VertexProgress } from "../util/progress.ts";
import type { BuildEnvironment } from "./environment.ts";
import { type BuildRef, snapshotIdOf } from "./refs.ts";

export type ExportRequest = {
  outputs: OutputSpec[];
  imageConfig: ImageConfig;
  platform: Platform;
  labels: Record<string, string>;
  sourceDateEpoch: number | undefined;
  buildTime: number;
  iidFile: string | undefined;
  metadataFile: string | undefined;
  stdout: (chunk: Uint8Array) => Promise<void>;
  env: Record<string, string | undefined>;
};

export async function exportResult(env: BuildEnvironment, req: ExportRequest, root: BuildRef, progress: ProgressSink, signal: AbortSignal): Promise<void> {
  const id = snapshotIdOf(root);
  let last: { image: BuiltImage; names: string[] } | undefined;
  for (const [i, out] of req.outputs.entries()) {
    await progressTask(progress, `export-${i}`, exportName(out), async (p) => {
      if (out.type === "local" || out.type === "tar") {
        await using mounted = id === null ? undefined : await env.snapshotter.mountReadonly(id);
        if (out.type === "local") await exportLocal(mounted?.path, out.dest, p, signal);
        else await exportTar(mounted?.path, out.dest, req.stdout, p, signal);
        return;
      }
      const image = await assemble(env, req, id, out, p, signal);
      await writeImage(env, req, image, out, p, signal);
      last = { image, names: out.names };
    });
  }
  if (last) writeBuildMetadata(req, last.image, last.names);
}

function exportName(out: OutputSpec): string {
  switch (out.type) {
    case "local":
      return "exporting to client directory";
    case "tar":
      return "exporting to client tarball";
    case "oci":
      return "exporting to oci image format";
    case "docker":
      return "exporting to docker image format";
    case "image":
      return "exporting to image";
  }
}

async function assemble(env: BuildEnvironment, req: ExportRequest, root: number | null, out: ImageOutput, p: VertexProgress, signal: AbortSignal): Promise<BuiltImage> {
  p.status("exporting layers", 0);
  const image = await buildImage(snapshotLayers({ snapshotter: env.snapshotter, store: env.store, index: env.index, progress: p }, root), env.store, {
    frontendConfig: req.imageConfig,
    platform: req.platform,
    options: out,
    labels: req.labels,
    sourceDateEpoch: req.sourceDateEpoch,
    buildTime: req.buildTime,
    signal,
  });
  p.statusDone("exporting layers");
  p.statusDone(`exporting manifest ${image.manifest.descriptor.digest}`);
  p.statusDone(`exporting config ${image.config.descriptor.digest}`);
  return image;
}

async function writeImage(env: BuildEnvironment, req: ExportRequest, image: BuiltImage, out: ImageOutput, p: VertexProgress, signal: AbortSignal): Promise<void> {
  const files: ImageFiles = { layers: image.layers, config: image.config, manifest: image.manifest, names: out.names, mtime: req.sourceDateEpoch ?? 0 };
  if (out.type === "oci") {
    if (!out.tar) writeOciDirectory(env.store, files, out.dest);
    else await writeOciArchive(env.store, files, archiveSink(out.dest, req.stdout), signal);
    p.statusDone(out.tar ? "sending tarball" : `writing layout to ${out.dest}`);
  } else if (out.type === "docker") {
    if (out.load) await dockerLoad(env.store, files, req.env, signal);
    else await writeDockerArchive(env.store, files, archiveSink(out.dest, req.stdout), signal);
    p.statusDone(out.load ? "loading image into docker" : "sending tarball");
  } else if (out.push) {
    await pushToRegistry({ client: env.registry, store: env.store, image, names: out.names, progress: p, signal });
  }
  for (const name of out.names) p.statusDone(`naming to ${formatReference(parseReference(name))}`);
}

/** `--load`: the docker archive piped into `docker load`, as buildx does. */
async function dockerLoad(store: BuildEnvironment["store"], files: ImageFiles, env: Record<string, string | undefined>, signal: AbortSignal): Promise<void> {
  const docker = Bun.which("docker", { PATH: env.PATH ?? process.env.PATH ?? "" });
  if (!docker) throw new KitError("E_EXPORT_DOCKER", "--load needs the docker command, which was not found", { hint: "install docker, or write the image with -o type=docker,dest=image.tar" });
  const child = spawn(docker, ["load"], { stdio: ["pipe", "ignore", "pipe"], env: env as NodeJS.ProcessEnv });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? 1)));
  await writeDockerArchive(store, files, child.stdin as Writable, signal);
  const code = await exited;
  if (code !== 0) {
    throw new KitError("E_EXPORT_DOCKER", `docker load failed: ${stderr.trim() || `exit code ${code}`}`, { hint: "is the docker daemon running, and may you use it?" });
  }
}

/** --iidfile (the image ID: its config digest, as docker) and --metadata-file (buildx's keys). */
function writeBuildMetadata(req: ExportRequest, image: BuiltImage, names: string[]): void {
  if (req.iidFile) writeTo(req, req.iidFile, image.config.descriptor.digest);
  if (req.metadataFile) writeTo(req, req.metadataFile, `${JSON.stringify(imageMetadata(image, names), null, 2)}\n`);
}

function writeTo(req: ExportRequest, path: string, text: string): void {
  if (path === "-") void req.stdout(new TextEncoder().encode(text));
  else writeFileSync(path, text);
}
