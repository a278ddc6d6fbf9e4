// Image documents: the config blob, the manifest (OCI or Docker media types) and, for the OCI
// layout, the index. Each is serialized once; its digest is taken over exactly those bytes.
import { sha256 } from "../llb/digest.ts";
import {
  MEDIA_DOCKER_CONFIG, MEDIA_DOCKER_MANIFEST, MEDIA_OCI_CONFIG, MEDIA_OCI_INDEX, MEDIA_OCI_MANIFEST,
} from "../oci/media-types.ts";
import type { Descriptor, ImageConfig, Platform } from "../oci/types.ts";

export type Blob = { descriptor: Descriptor; bytes: Uint8Array };

const encoder = new TextEncoder();

/** A JSON document as a blob: serialized once, its digest taken over exactly those bytes. */
export function jsonBlob(mediaType: string, doc: unknown, extra: Partial<Descriptor> = {}): Blob {
  const bytes = encoder.encode(JSON.stringify(doc));
  return { bytes, descriptor: { mediaType, digest: sha256(bytes), size: bytes.length, ...extra } };
}

export function configBlob(config: ImageConfig, oci: boolean): Blob {
  const mediaType = oci ? MEDIA_OCI_CONFIG : MEDIA_DOCKER_CONFIG;
  const bytes = encoder.encode(goEscaped(JSON.stringify(config)));
  return { bytes, descriptor: { mediaType, digest: sha256(bytes), size: bytes.length } };
}

/**
 * JSON text with the characters Go's encoding/json escapes inside strings (<, >, &, U+2028,
 * U+2029), as BuildKit writes the config, so the same config has the same bytes and image id.
 * They never occur outside strings in JSON, so the whole text can be rewritten.
 */
export function goEscaped(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function manifestBlob(config: Descriptor, layers: Descriptor[], oci: boolean, annotations: Record<string, string>, platform: Platform): Blob {
  const doc: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: oci ? MEDIA_OCI_MANIFEST : MEDIA_DOCKER_MANIFEST,
    config,
    layers,
  };
  if (Object.keys(annotations).length > 0) doc.annotations = annotations;
  return jsonBlob(oci ? MEDIA_OCI_MANIFEST : MEDIA_DOCKER_MANIFEST, doc, { platform });
}

/** The OCI layout's index.json: one entry per image name (or one unnamed) for the manifest or the image's index. */
export function layoutIndex(manifest: Descriptor, names: string[]): Uint8Array {
  const { platform: _p, ...base } = manifest;
  const manifests = (names.length > 0 ? names : [undefined]).map((name) =>
    name === undefined ? base : { ...base, annotations: { ...base.annotations, "io.containerd.image.name": name, "org.opencontainers.image.ref.name": refName(name) } },
  );
  return encoder.encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_OCI_INDEX, manifests }));
}

/** The tag part of a name, as the OCI ref.name annotation holds it ("latest" for "app:latest"). */
function refName(name: string): string {
  const tag = /:([\w][\w.-]{0,127})$/.exec(name.split("/").at(-1) ?? "");
  return tag?.[1] ?? "latest";
}
