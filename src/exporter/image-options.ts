// The outputs a build can have (`-o`, `-t`, `--push`, `--load`) and the options of those that
// write an image, with BuildKit's defaults.
import { KitError } from "../util/errors.ts";

export type Compression = "gzip" | "zstd" | "uncompressed";

export type ImageOptions = {
  /** Image names (tags) for the manifest: `name=a,b`, `-t`. */
  names: string[];
  compression: Compression;
  compressionLevel?: number;
  /** Recompress base image layers too (otherwise they are reused exactly as pulled). */
  forceCompression: boolean;
  /** OCI media types rather than Docker's. */
  ociMediaTypes: boolean;
  /** Manifest annotations (`annotation.KEY=VALUE`, `annotation-manifest.KEY=VALUE`). */
  annotations: Record<string, string>;
  /** `annotation-index.KEY`: the image index's (or, with no index, the OCI layout index.json's) annotations. */
  indexAnnotations?: Record<string, string>;
  /** `annotation-manifest-descriptor.KEY`: the manifest's descriptor in the index (or the layout's index.json). */
  manifestDescriptorAnnotations?: Record<string, string>;
  /** `annotation-index-descriptor.KEY`: the index's descriptor in the OCI layout's index.json. */
  indexDescriptorAnnotations?: Record<string, string>;
  /**
   * `--annotation manifest[linux/arm64]:KEY=VALUE`: annotations of one platform's manifest (or its
   * descriptor), by the normalized platform ("linux/arm64"); over the ones for every platform.
   */
  platformAnnotations?: Record<string, { manifest?: Record<string, string>; manifestDescriptor?: Record<string, string> }>;
  /** `oci-artifact=true`: attestation manifests as OCI artifacts whose subject is the image (BuildKit ≥ 0.21). */
  ociArtifact?: boolean;
  /** Clamp the new layers' file times to SOURCE_DATE_EPOCH. */
  rewriteTimestamp: boolean;
  /** `dangling-name-prefix=P`: an image without a name is named "P@DIGEST" (BuildKit's image exporter). */
  danglingNamePrefix?: string;
};

export type OutputSpec =
  | { type: "local"; dest: string; platformSplit?: boolean }
  | { type: "tar"; dest: string; platformSplit?: boolean }
  | ({ type: "oci"; dest: string; tar: boolean } & ImageOptions)
  | ({ type: "docker"; dest: string; load: boolean; context?: string } & ImageOptions)
  | ({ type: "image"; push: boolean } & RegistryPushOptions & ImageOptions);

/** BuildKit's push attributes of `type=image`/`type=registry`. */
export type RegistryPushOptions = {
  /** `registry.insecure=true`: HTTPS without certificate checks, else plain HTTP. */
  insecure?: boolean;
  /** `push-by-digest=true`: the manifest pushed by digest only, no tag. */
  pushByDigest?: boolean;
  /** `name-canonical=true`: each name also as NAME@DIGEST. */
  nameCanonical?: boolean;
};

export type ImageOutput = Extract<OutputSpec, { names: string[] }>;

export function isImageOutput(o: OutputSpec): o is ImageOutput {
  return o.type === "oci" || o.type === "docker" || o.type === "image";
}

/** BuildKit's defaults: OCI media types for the OCI layout, Docker's otherwise (no attestations). */
export function defaultImageOptions(type: "oci" | "docker" | "image"): ImageOptions {
  return {
    names: [],
    compression: "gzip",
    forceCompression: false,
    ociMediaTypes: type === "oci",
    annotations: {},
    rewriteTimestamp: false,
  };
}

/** The names an image output gives its image: with `name-canonical=true` each also as NAME@DIGEST (BuildKit's image store names). */
export function namesWithCanonical(out: ImageOutput, names: string[], manifestDigest: string): string[] {
  if (out.type !== "image" || !out.nameCanonical) return names;
  return names.flatMap((n) => (n.includes("@") ? [n] : [n, `${n}@${manifestDigest}`]));
}

/** BuildKit's refusal: a single manifest has no index to carry index annotations. */
export function indexAnnotationsError(): KitError {
  return new KitError("E_USAGE", "index annotations not supported for single platform export", {
    hint: "an image gets an index only with attestations: add --provenance=true (or --sbom), or use manifest annotations",
  });
}

export function hasIndexAnnotations(out: ImageOutput): boolean {
  return Object.keys(out.indexAnnotations ?? {}).length + Object.keys(out.indexDescriptorAnnotations ?? {}).length > 0;
}
