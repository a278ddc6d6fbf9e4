// Writing an image as an OCI image layout (a tar, or a directory with tar=false) or as a
// docker-archive (`docker load`: manifest.json beside the same OCI layout, as `docker save` writes
// it now). Entries are sorted and their times fixed, so the same image gives the same bytes.
import { createReadStream, createWriteStream, mkdirSync, writeFileSync, copyFileSync, existsSync } from "node:fs";
import type { Writable } from "node:stream";
import { stream, streamPromises } from "../util/lazy-modules.ts";
import type { ContentStore } from "../content/store.ts";
import { hexOf } from "../llb/digest.ts";
import type { Descriptor } from "../oci/types.ts";
import { formatReference, parseReference } from "../registry/reference.ts";
import { KitError } from "../util/errors.ts";
import { TarWriter } from "../archive/tar-writer.ts";
import type { ExportedIndex } from "./image.ts";
import type { Blob } from "./manifest.ts";
import { layoutIndex } from "./manifest.ts";

export type ImageFiles = {
  /** Layers: their blobs are in the content store. */
  layers: Descriptor[];
  config: Blob;
  manifest: Blob;
  names: string[];
  /** The index over the manifests and their attestations: then the layout's index.json names it. */
  index?: ExportedIndex;
  /** The other platforms' images (several platforms: the index lists them all). */
  others?: ReadonlyArray<Pick<ImageFiles, "layers" | "config" | "manifest">>;
  /** Seconds since the epoch, for the archive's own entries. */
  mtime: number;
};

type Entry = { name: string; bytes?: Uint8Array; file?: string; size: number };

const OCI_LAYOUT = new TextEncoder().encode(JSON.stringify({ imageLayoutVersion: "1.0.0" }));

function layoutEntries(store: ContentStore, img: ImageFiles): Entry[] {
  const blobs = new Map<string, Entry>();
  const images = [img, ...(img.others ?? [])];
  for (const l of images.flatMap((i) => i.layers)) blobs.set(l.digest, { name: `blobs/sha256/${hexOf(l.digest)}`, file: store.path(l.digest), size: l.size });
  const documents = [...images.flatMap((i) => [i.config, i.manifest]), ...(img.index ? [...img.index.blobs, ...img.index.manifests, img.index.index] : [])];
  for (const b of documents) blobs.set(b.descriptor.digest, { name: `blobs/sha256/${hexOf(b.descriptor.digest)}`, bytes: b.bytes, size: b.bytes.length });
  const top = img.index?.index.descriptor ?? img.manifest.descriptor;
  const index = layoutIndex(top, img.names.map((n) => formatReference(parseReference(n))));
  return [...blobs.values(), { name: "index.json", bytes: index, size: index.length }, { name: "oci-layout", bytes: OCI_LAYOUT, size: OCI_LAYOUT.length }];
}

/**
 * docker load's manifest.json, with the names docker shows ("app:latest"): one entry per platform's
 * image, the names on the first only (a docker without a multi-platform store loads one image per name).
 */
function dockerManifest(img: ImageFiles): Entry {
  const doc = [img, ...(img.others ?? [])].map((i, at) => ({
    Config: `blobs/sha256/${hexOf(i.config.descriptor.digest)}`,
    RepoTags: at === 0 ? img.names.map(familiarName) : [],
    Layers: i.layers.map((l) => `blobs/sha256/${hexOf(l.digest)}`),
  }));
  const bytes = new TextEncoder().encode(JSON.stringify(doc));
  return { name: "manifest.json", bytes, size: bytes.length };
}

export function familiarName(name: string): string {
  const ref = parseReference(name);
  const path = ref.domain === "docker.io" && ref.path.startsWith("library/") ? ref.path.slice(8) : ref.path;
  const repo = ref.domain === "docker.io" ? path : `${ref.domain}/${path}`;
  return `${repo}:${ref.tag ?? "latest"}`;
}

export async function writeOciArchive(store: ContentStore, img: ImageFiles, sink: Writable, signal: AbortSignal): Promise<void> {
  await writeTar(layoutEntries(store, img), img.mtime, sink, signal);
}

export async function writeDockerArchive(store: ContentStore, img: ImageFiles, sink: Writable, signal: AbortSignal): Promise<void> {
  await writeTar([...layoutEntries(store, img), dockerManifest(img)], img.mtime, sink, signal);
}

/** The OCI layout as a directory (`type=oci,tar=false`), merged into what is there. */
export function writeOciDirectory(store: ContentStore, img: ImageFiles, dest: string): void {
  mkdirSync(`${dest}/blobs/sha256`, { recursive: true });
  for (const e of layoutEntries(store, img)) {
    const path = `${dest}/${e.name}`;
    if (e.file) {
      if (!existsSync(path)) copyFileSync(e.file, path);
    } else writeFileSync(path, e.bytes as Uint8Array);
  }
}

async function writeTar(entries: Entry[], mtime: number, sink: Writable, signal: AbortSignal): Promise<void> {
  const tar = new TarWriter();
  const written = streamPromises().pipeline(tar.stream, sink, { signal });
  written.catch(() => {});
  const base = { uid: 0, gid: 0, mtimeNs: BigInt(mtime) * 1_000_000_000n };
  try {
    for (const d of ["blobs/", "blobs/sha256/"]) await tar.entry({ ...base, name: d, type: "directory", mode: 0o755 });
    for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      // 1 MiB reads: a blob of hundreds of MB in 64 KiB pieces cost as many stream rounds.
      const body = e.bytes ? oneChunk(e.bytes) : (createReadStream(e.file as string, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>);
      await tar.entry({ ...base, name: e.name, type: "file", mode: 0o644, size: e.size }, body);
    }
    await tar.finish();
    await written;
  } catch (e) {
    tar.abort(e instanceof Error ? e : new Error(String(e)));
    // The sink's own error (a full or read-only disk) says more than the tar writer's abort.
    const cause = await written.then(() => e, (w: unknown) => w);
    if (cause instanceof KitError) throw cause;
    throw new KitError("E_EXPORT_ARCHIVE", `failed to write the image archive: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** A file, or stdout for "-". */
export function archiveSink(dest: string, stdout: (chunk: Uint8Array) => Promise<void>): Writable {
  if (dest === "-") return new (stream().Writable)({ write: (chunk, _enc, cb) => void stdout(chunk).then(() => cb(), cb) });
  return createWriteStream(dest);
}
