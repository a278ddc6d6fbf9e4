// Resolving a reference in kitbuild's own image store (cache/image-names.ts) before the registry, as
// docker's image store does with the docker driver ("prefer local"): a name kitbuild built with -t,
// or a pinned reference whose manifest a kept image has. Its blobs are all in the content store, so
// pulling it unpacks from there and never reaches a registry.
import type { CacheIndex } from "../cache/index.ts";
import { imageByManifest, imageByName, type StoredImage } from "../cache/image-names.ts";
import type { ContentStore } from "../content/store.ts";
import type { Digest, ImageConfig, Index, Manifest, Platform } from "../oci/types.ts";
import { choosePlatform, platformMatches } from "../registry/platform.ts";
import { formatReference, type Reference } from "../registry/reference.ts";
import { KitError } from "../util/errors.ts";

/** A resolution from the store: a ResolvedImage's fields, its blobs in the content store. */
export type StoredResolution = { ref: Reference; manifestDigest: Digest; manifest: Manifest; config: ImageConfig; configDigest: Digest };

/** The kept image `ref` names, or undefined when the store has none for it (or none for `platform`). */
export async function resolveStored(index: CacheIndex, store: ContentStore, ref: Reference, platform: Platform): Promise<StoredResolution | undefined> {
  const found = storedFor(index, ref);
  if (!found) return undefined;
  let manifestDigest = found.manifest as Digest;
  let doc = JSON.parse(new TextDecoder().decode(await readKept(store, manifestDigest, ref))) as Manifest | Index;
  if ("manifests" in doc) {
    // A multi-platform build kept as its index: the platform's manifest in it, chosen as from a registry's.
    const entry = choosePlatform(doc.manifests, platform);
    if (!entry) return undefined;
    manifestDigest = entry.digest as Digest;
    doc = JSON.parse(new TextDecoder().decode(await readKept(store, manifestDigest, ref))) as Manifest;
  }
  const manifest = doc as Manifest;
  const config = JSON.parse(new TextDecoder().decode(await readKept(store, manifest.config.digest, ref))) as ImageConfig;
  // An image of another platform is the registry's to answer, as docker pulls when the local one does not match.
  if (manifestDigest === found.manifest && !samePlatform(config, platform)) return undefined;
  // Pinned to what the store keeps (an index is found again by its digest).
  const pinned: Reference = { domain: ref.domain, path: ref.path, digest: found.manifest as Digest };
  if (ref.tag) pinned.tag = ref.tag;
  return { ref: pinned, manifestDigest, manifest, config, configDigest: manifest.config.digest };
}

/** A pinned reference is found by its manifest (whatever its name), a tag by its name. */
function storedFor(index: CacheIndex, ref: Reference): StoredImage | undefined {
  return ref.digest ? imageByManifest(index.db, ref.digest) : imageByName(index.db, formatReference(ref));
}

function samePlatform(config: Pick<ImageConfig, "os" | "architecture" | "variant">, platform: Platform): boolean {
  if (!config.os || !config.architecture) return true;
  return platformMatches(platform, { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) });
}

/** A blob of a kept image; one that is gone means the store was damaged behind kitbuild's back. */
async function readKept(store: ContentStore, digest: Digest, ref: Reference): Promise<Uint8Array> {
  if (!(await store.has(digest))) throw missingBlob(digest, ref);
  return store.readBytes(digest);
}

export function missingBlob(digest: string, ref: Reference): KitError {
  return new KitError("E_IMAGE_STORE_CORRUPT", `blob "${digest}" of the stored image "${formatReference(ref)}" is missing from the content store`, {
    hint: `remove the image with kitbuild rmi ${formatReference({ ...ref, digest: undefined })} and build it again, or add --pull to use the registry's`,
  });
}
