// Writing an image as an OCI image layout (a tar, or a directory with tar=false) or as a
// docker-archive (`docker load`: manifest.json beside the same OCI layout, as `docker save` writes
// it now). Entries are sorted and their times fixed, so the same image gives the same bytes.
import { createReadStream, createWriteStream, mkdirSync, writeFileSync, copyFileSync, existsSync } from "node:fs";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pack as tarPack, type Pack } from "tar-stream";
import type { ContentStore } from "../content/store.ts";
import { hexOf } from "../llb/digest.ts";
import type { Descriptor } from "../oci/types.ts";
import { formatReference, parseReference } from "../registry/reference.ts";
import { KitError } from "../util/errors.ts";
import type { Blob } from "./manifest.ts";
import { layoutIndex } from "./manifest.ts";

export type ImageFiles = {
  /** Layers: their blobs are in the content store. */
  layers: Descriptor[];
  config: Blob;
  manifest: Blob;
  names: string[];
  /** Seconds since the epoch, for the archive's own entries. */
  mtime: number;
};

type Entry = { name: string; bytes?: Uint8Array; file?: string; size: number };

const OCI_LAYOUT = new TextEncoder().encode(JSON.stringify({ imageLayoutVersion: "1.0.0" }));

function layoutEntries(store: ContentStore, img: ImageFiles): Entry[] {
  const blobs = new Map<string, Entry>();
  for (const l of img.layers) blobs.set(l.digest, { name: `blobs/sha256/${hexOf(l.digest)}`, file: store.path(l.digest), size: l.size });
  for (const b of [img.config, img.manifest]) blobs.set(b.descriptor.digest, { name: `blobs/sha256/${hexOf(b.descriptor.digest)}`, bytes: b.bytes, size: b.bytes.length });
  const index = layoutIndex(img.manifest.descriptor, img.names.map((n) => formatReference(parseReference(n))));
  return [...blobs.values(), { name: "index.json", bytes: index, size: index.length }, { name: "oci-layout", bytes: OCI_LAYOUT, size: OCI_LAYOUT.length }];
}

/** docker load's manifest.json, with the names docker shows ("app:latest"). */
function dockerManifest(img: ImageFiles): Entry {
  const doc = [
    {
      Config: `blobs/sha256/${hexOf(img.config.descriptor.digest)}`,
      RepoTags: img.names.map(familiarName),
      Layers: img.layers.map((l) => `blobs/sha256/${hexOf(l.digest)}`),
    },
  ];
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
  const pack = tarPack();
  const written = pipeline(pack, sink, { signal });
  written.catch(() => {});
  try {
    const date = new Date(mtime * 1000);
    const dirs = ["blobs/", "blobs/sha256/"];
    for (const d of dirs) await entry(pack, { name: d, type: "directory", mode: 0o755, mtime: date });
    for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.bytes) await entry(pack, { name: e.name, mode: 0o644, mtime: date, size: e.size }, e.bytes);
      else await fileEntry(pack, e, date);
    }
    pack.finalize();
    await written;
  } catch (e) {
    pack.destroy();
    if (e instanceof KitError) throw e;
    throw new KitError("E_EXPORT_ARCHIVE", `failed to write the image archive: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

function entry(pack: Pack, header: Parameters<Pack["entry"]>[0], body?: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (body) pack.entry({ ...header, uid: 0, gid: 0 }, body, (err) => (err ? reject(err) : resolve()));
    else pack.entry({ ...header, uid: 0, gid: 0 }, (err) => (err ? reject(err) : resolve()));
  });
}

function fileEntry(pack: Pack, e: Entry, mtime: Date): Promise<void> {
  return new Promise((resolve, reject) => {
    const sink = pack.entry({ name: e.name, mode: 0o644, mtime, size: e.size, uid: 0, gid: 0 }, (err) => (err ? reject(err) : resolve()));
    createReadStream(e.file as string).on("error", reject).pipe(sink as unknown as NodeJS.WritableStream);
  });
}

/** A file, or stdout for "-". */
export function archiveSink(dest: string, stdout: (chunk: Uint8Array) => Promise<void>): Writable {
  if (dest === "-") return new Writable({ write: (chunk, _enc, cb) => void stdout(chunk).then(() => cb(), cb) });
  return createWriteStream(dest);
}
