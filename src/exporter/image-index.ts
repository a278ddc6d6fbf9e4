// The index an image output writes when the build has attestations or several platforms: each
// platform's image manifest (with its platform), then each one's attestation manifest referring to
// it, as BuildKit orders them; every document also kept in the content store.
import type { ContentStore } from "../content/store.ts";
import { MEDIA_DOCKER_LIST, MEDIA_OCI_INDEX } from "../oci/media-types.ts";
import type { Platform } from "../oci/types.ts";
import { type Attestation, attestationManifest } from "./attestations.ts";
import type { BuiltImage, ExportedIndex } from "./image.ts";
import { type IndexEntry, type IndexOptions, indexBlob } from "./index.ts";
import type { Blob } from "./manifest.ts";

/** One platform's image and the attestations that describe it. */
export type PlatformImage = { image: BuiltImage; platform: Platform; attestations: readonly Attestation[] };

export async function imageIndex(
  images: readonly PlatformImage[],
  names: readonly string[],
  store: ContentStore,
  signal: AbortSignal,
  annotations: IndexOptions = {},
  ociArtifact = false,
): Promise<ExportedIndex> {
  const entries: IndexEntry[] = images.map((i) => ({ descriptor: { ...i.image.manifest.descriptor, platform: i.platform } }));
  const manifests: Blob[] = [];
  const blobs: Blob[] = [];
  for (const i of images) {
    if (i.attestations.length === 0) continue;
    const att = attestationManifest(i.attestations, i.image.manifest.descriptor, names, i.platform, ociArtifact);
    entries.push({ descriptor: att.descriptor });
    manifests.push(att.manifest);
    blobs.push(att.config, ...att.layers);
  }
  // Docker's media types make a Docker manifest list (BuildKit's default without attestations).
  const docker = images.every((i) => i.image.manifest.descriptor.mediaType.startsWith("application/vnd.docker."));
  const index = indexBlob(entries, annotations, docker ? MEDIA_DOCKER_LIST : MEDIA_OCI_INDEX);
  for (const b of [...blobs, ...manifests, index]) await store.writeBytes(b.bytes, { digest: b.descriptor.digest }, signal);
  return { index, manifests, blobs };
}
