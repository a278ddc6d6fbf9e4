// The index an image output writes when the build has attestations: the image manifest (with its
// platform) and its attestation manifest, every document also kept in the content store.
import type { ContentStore } from "../content/store.ts";
import type { Platform } from "../oci/types.ts";
import { type Attestation, attestationManifest } from "./attestations.ts";
import type { BuiltImage, ExportedIndex } from "./image.ts";
import { type IndexOptions, indexBlob } from "./index.ts";

export async function withAttestations(
  image: BuiltImage,
  attestations: readonly Attestation[],
  names: readonly string[],
  platform: Platform,
  store: ContentStore,
  signal: AbortSignal,
  annotations: IndexOptions = {},
  ociArtifact = false,
): Promise<ExportedIndex> {
  const att = attestationManifest(attestations, image.manifest.descriptor, names, platform, ociArtifact);
  const index = indexBlob([{ descriptor: { ...image.manifest.descriptor, platform } }, { descriptor: att.descriptor }], annotations);
  const blobs = [att.config, ...att.layers];
  for (const b of [...blobs, att.manifest, index]) await store.writeBytes(b.bytes, { digest: b.descriptor.digest }, signal);
  return { index, manifests: [att.manifest], blobs };
}
