// An OCI image index: the image manifests of a build (one per platform) and,
// beside each, the manifests that describe it (attestations). The index is serialized once and its
// digest taken over exactly those bytes, as the manifests are.
import { MEDIA_OCI_INDEX } from "../oci/media-types.ts";
import type { Descriptor } from "../oci/types.ts";
import { type Blob, jsonBlob } from "./manifest.ts";

/** One entry of an index: the manifest's descriptor as the index lists it (platform, annotations). */
export type IndexEntry = { descriptor: Descriptor };

export type IndexOptions = {
  /** `annotation-index.KEY`: the index document's own annotations. */
  annotations?: Record<string, string>;
  /** `annotation-index-descriptor.KEY`: annotations of the descriptor that points at the index. */
  descriptorAnnotations?: Record<string, string>;
};

/** The index document listing `entries` in order (a Docker manifest list when `mediaType` says so). */
export function indexBlob(entries: readonly IndexEntry[], opts: IndexOptions = {}, mediaType = MEDIA_OCI_INDEX): Blob {
  const doc: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType,
    manifests: entries.map((e) => e.descriptor),
  };
  if (opts.annotations && Object.keys(opts.annotations).length > 0) doc.annotations = opts.annotations;
  const extra = opts.descriptorAnnotations && Object.keys(opts.descriptorAnnotations).length > 0 ? { annotations: opts.descriptorAnnotations } : {};
  return jsonBlob(mediaType, doc, extra);
}
