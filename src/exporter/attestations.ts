// Attestations as BuildKit attaches them to an image: each one an in-toto statement whose subject
// is the image manifest, stored as a layer (application/vnd.in-toto+json) of an attestation
// manifest whose platform is unknown/unknown and whose descriptor in the index names the image it
// describes (vnd.docker.reference.digest, vnd.docker.reference.type: attestation-manifest).
import { sha256 } from "../llb/digest.ts";
import { MEDIA_OCI_CONFIG, MEDIA_OCI_MANIFEST } from "../oci/media-types.ts";
import type { Descriptor, Platform } from "../oci/types.ts";
import { type Blob, goEscaped, jsonBlob } from "./manifest.ts";
import { imagePurl } from "./purl.ts";

export const INTOTO_STATEMENT_TYPE = "https://in-toto.io/Statement/v0.1";
export const MEDIA_INTOTO = "application/vnd.in-toto+json";
export const PREDICATE_TYPE_ANNOTATION = "in-toto.io/predicate-type";
export const REFERENCE_DIGEST_ANNOTATION = "vnd.docker.reference.digest";
export const REFERENCE_TYPE_ANNOTATION = "vnd.docker.reference.type";
export const ATTESTATION_MANIFEST_TYPE = "attestation-manifest";
/** The platform of an attestation manifest: it runs nowhere, so runtimes skip it. */
export const ATTESTATION_PLATFORM: Platform = { architecture: "unknown", os: "unknown" };

/** One attestation of a build: its predicate, and the file name type=local/tar outputs give it. */
export type Attestation = {
  kind: "provenance" | "sbom";
  predicateType: string;
  /** "provenance.json", "sbom.spdx.json". */
  path: string;
  predicate: unknown;
  /** Only pushed images carry it (buildx's default provenance, which the user did not ask for). */
  pushedOnly?: true;
  /** Only image outputs carry it (`inline-only=true`): not written as a file by type=local/tar. */
  inlineOnly?: true;
};

export type StatementSubject = { name: string; digest: Record<string, string> };

const encoder = new TextEncoder();

/** The statement as BuildKit writes it: Go's field order, two-space indent, Go's HTML escapes. */
export function inTotoStatement(att: Attestation, subject: readonly StatementSubject[]): Uint8Array {
  const doc = { _type: INTOTO_STATEMENT_TYPE, predicateType: att.predicateType, subject, predicate: att.predicate };
  return encoder.encode(goEscaped(JSON.stringify(doc, null, 2)));
}

/** One subject per image name (its package URL); an unnamed image gives none, as BuildKit's. */
export function imageSubjects(names: readonly string[], platform: Platform, manifestDigest: string): StatementSubject[] {
  const digest = { sha256: manifestDigest.replace(/^sha256:/, "") };
  return names.map((n) => ({ name: imagePurl(n, platform), digest }));
}

/** The attestation manifest of one image, with every blob it names. */
export type AttestationManifest = {
  manifest: Blob;
  config: Blob;
  /** The statements, one layer each. */
  layers: Blob[];
  /** How the index lists it. */
  descriptor: Descriptor;
};

/** `oci-artifact=true` (BuildKit ≥ 0.21): the attestation manifest as an OCI artifact of this type, with the image as its subject. */
export const ATTESTATION_ARTIFACT_TYPE = "application/vnd.docker.attestation.manifest.v1+json";
const EMPTY_JSON = new TextEncoder().encode("{}");

export function attestationManifest(attestations: readonly Attestation[], image: Descriptor, names: readonly string[], platform: Platform, ociArtifact = false): AttestationManifest {
  const subjects = imageSubjects(names, platform, image.digest);
  const layers = attestations.map((a): Blob => {
    const bytes = inTotoStatement(a, subjects);
    return { bytes, descriptor: { mediaType: MEDIA_INTOTO, digest: sha256(bytes), size: bytes.length, annotations: { [PREDICATE_TYPE_ANNOTATION]: a.predicateType } } };
  });
  // An image config that says what the layers are (uncompressed, so each DiffID is its digest), or
  // for an artifact the empty JSON document, inlined in its descriptor as the OCI spec defines it.
  const config: Blob = ociArtifact
    ? { bytes: EMPTY_JSON, descriptor: { mediaType: "application/vnd.oci.empty.v1+json", digest: sha256(EMPTY_JSON), size: EMPTY_JSON.length, data: Buffer.from(EMPTY_JSON).toString("base64") } }
    : jsonBlob(MEDIA_OCI_CONFIG, {
        architecture: ATTESTATION_PLATFORM.architecture,
        os: ATTESTATION_PLATFORM.os,
        config: {},
        rootfs: { type: "layers", diff_ids: layers.map((l) => l.descriptor.digest) },
      });
  const manifest = jsonBlob(MEDIA_OCI_MANIFEST, {
    schemaVersion: 2,
    mediaType: MEDIA_OCI_MANIFEST,
    ...(ociArtifact ? { artifactType: ATTESTATION_ARTIFACT_TYPE } : {}),
    config: config.descriptor,
    layers: layers.map((l) => l.descriptor),
    ...(ociArtifact ? { subject: { mediaType: image.mediaType, digest: image.digest, size: image.size } } : {}),
  });
  const descriptor: Descriptor = {
    ...manifest.descriptor,
    annotations: { [REFERENCE_DIGEST_ANNOTATION]: image.digest, [REFERENCE_TYPE_ANNOTATION]: ATTESTATION_MANIFEST_TYPE },
    platform: ATTESTATION_PLATFORM,
    ...(ociArtifact ? { artifactType: ATTESTATION_ARTIFACT_TYPE } : {}),
  };
  return { manifest, config, layers, descriptor };
}
