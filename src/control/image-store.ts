// kitbuild's image store for `kitbuild images`, `kitbuild rmi` and prune: the kept images with
// their names as docker shows them, removal as docker's rmi does it (untag; delete with the last
// name; an ID with several names only with -f), and the blobs that kept images need, which no
// prune or GC removes.
import { type ImageRow, listImages, removeImage, removeName } from "../cache/image-names.ts";
import type { Digest, Index, Manifest } from "../oci/types.ts";
import { formatReference, parseReference, type Reference } from "../registry/reference.ts";
import { KitError } from "../util/errors.ts";
import type { BuildEnvironment } from "./environment.ts";

/** A stored image as `kitbuild images` lists it: one row per name, or one <none> row when dangling. */
export type ImageListing = {
  repository: string;
  tag: string;
  /** The config digest ("sha256:…"), docker's image ID. */
  id: string;
  manifest: string;
  created: number;
  size: number;
  dangling: boolean;
};

/** The familiar form of a normalized name: "docker.io/library/base:latest" is "base:latest". */
export function familiarName(name: string): string {
  const ref = parseReference(name);
  return familiarRepository(ref) + (ref.tag ? `:${ref.tag}` : "") + (ref.digest ? `@${ref.digest}` : "");
}

function familiarRepository(ref: Reference): string {
  if (ref.domain !== "docker.io") return `${ref.domain}/${ref.path}`;
  return ref.path.replace(/^library\/(?=[^/]+$)/, "");
}

export function listStoredImages(env: BuildEnvironment): ImageListing[] {
  const out: ImageListing[] = [];
  for (const img of listImages(env.index.db)) {
    const base = { id: img.config, manifest: img.manifest, created: img.created, size: img.size };
    if (img.names.length === 0) out.push({ ...base, repository: "<none>", tag: "<none>", dangling: true });
    for (const name of img.names) {
      const ref = parseReference(name);
      out.push({ ...base, repository: familiarRepository(ref), tag: ref.tag ?? "<none>", dangling: false });
    }
  }
  return out;
}

/** What `rmi` did for one argument, in docker's words ("Untagged: base:latest", "Deleted: sha256:…"). */
export type RemovalLine = { untagged?: string; deleted?: string };

/**
 * Removes one image argument as docker's rmi: a name is untagged and its image deleted with its last
 * name; an ID (or a prefix of it) deletes the image, untagging every name, only with `force` when it
 * has several. Throws E_IMAGE_NOT_FOUND ("No such image") or E_IMAGE_CONFLICT.
 */
export function removeStoredImage(env: BuildEnvironment, arg: string, force: boolean): RemovalLine[] {
  const db = env.index.db;
  const images = listImages(db);
  const name = normalizedName(arg);
  if (name !== undefined) {
    const img = images.find((i) => i.names.includes(name));
    if (img) {
      removeName(db, name);
      const lines: RemovalLine[] = [{ untagged: familiarName(name) }];
      if (img.names.length === 1) lines.push(...deleteImage(env, img));
      return lines;
    }
  }
  const byId = imagesById(images, arg);
  if (byId.length === 0) {
    throw new KitError("E_IMAGE_NOT_FOUND", `No such image: ${name === undefined ? arg : familiarName(name)}`, { hint: "kitbuild images lists the images kitbuild keeps" });
  }
  const ids = new Set(byId.map((i) => i.config));
  if (ids.size > 1) throw new KitError("E_IMAGE_CONFLICT", `"${arg}" is a prefix of ${ids.size} image IDs`, { hint: "give more of the ID (kitbuild images --no-trunc shows them whole)" });
  const named = byId.flatMap((i) => i.names);
  if (named.length > 1 && !force) {
    throw new KitError("E_IMAGE_CONFLICT", `conflict: unable to delete ${shortId(byId[0]?.config ?? "")} (must be forced) - image is referenced in multiple repositories`, {
      hint: `remove it by name, or with kitbuild rmi -f ${arg}`,
    });
  }
  const lines: RemovalLine[] = named.map((n) => ({ untagged: familiarName(n) }));
  for (const img of byId) lines.push(...deleteImage(env, img));
  return lines;
}

function deleteImage(env: BuildEnvironment, img: ImageRow): RemovalLine[] {
  removeImage(env.index.db, img.manifest);
  return [{ deleted: img.config }];
}

/** The normalized name `arg` spells ("NAME@DIGEST" too, as dangling-name-prefix keeps one), or undefined when it is no reference (an ID). */
function normalizedName(arg: string): string | undefined {
  try {
    return formatReference(parseReference(arg));
  } catch {
    return undefined;
  }
}

/** Images whose ID is `arg` or starts with it ("sha256:" optional), as docker takes short IDs. */
function imagesById(images: ImageRow[], arg: string): ImageRow[] {
  const hex = arg.startsWith("sha256:") ? arg.slice("sha256:".length) : arg;
  if (!/^[a-f0-9]{1,64}$/.test(hex)) return [];
  return images.filter((i) => i.config.slice("sha256:".length).startsWith(hex));
}

/** The first 12 hex digits of an ID, as docker shows it. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

/** Every blob a kept image needs: its manifest, config and layers. */
export async function storedImageBlobs(env: BuildEnvironment): Promise<Set<string>> {
  const live = new Set<string>();
  for (const img of listImages(env.index.db)) {
    live.add(img.manifest);
    live.add(img.config);
    await addManifestBlobs(env, img.manifest as Digest, live);
  }
  return live;
}

/** A manifest's config and layers, or an index's manifests and theirs (a multi-platform image, attestations). */
async function addManifestBlobs(env: BuildEnvironment, digest: Digest, live: Set<string>): Promise<void> {
  if (!(await env.store.has(digest))) return;
  const doc = JSON.parse(new TextDecoder().decode(await env.store.readBytes(digest))) as Manifest | Index;
  if ("manifests" in doc) {
    for (const m of doc.manifests) {
      live.add(m.digest);
      await addManifestBlobs(env, m.digest as Digest, live);
    }
    return;
  }
  live.add(doc.config.digest);
  for (const layer of doc.layers) live.add(layer.digest);
}
