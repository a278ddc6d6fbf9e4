// Media types of OCI and Docker image documents and layers.
export const MEDIA_OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const MEDIA_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const MEDIA_OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const MEDIA_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
export const MEDIA_OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const MEDIA_OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
export const MEDIA_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const MEDIA_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const MEDIA_DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json";
export const MEDIA_DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws";
export const MEDIA_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
export const MEDIA_DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
export const MEDIA_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar";
/** Not in Docker's own spec: what BuildKit (and containerd) name a zstd layer in a Docker manifest. */
export const MEDIA_DOCKER_LAYER_ZSTD = "application/vnd.docker.image.rootfs.diff.tar.zstd";

export const INDEX_MEDIA_TYPES: readonly string[] = [MEDIA_OCI_INDEX, MEDIA_DOCKER_LIST];
export const MANIFEST_MEDIA_TYPES: readonly string[] = [MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST];

export type LayerCompression = "gzip" | "zstd" | "uncompressed";

/** How a layer blob is compressed, judged by its media type; undefined for non-layer types. */
export function layerCompression(mediaType: string): LayerCompression | undefined {
  switch (mediaType) {
    case MEDIA_OCI_LAYER_GZIP:
    case MEDIA_DOCKER_LAYER_GZIP:
    case "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip":
    case "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":
      return "gzip";
    case MEDIA_OCI_LAYER_ZSTD:
    case MEDIA_DOCKER_LAYER_ZSTD:
      return "zstd";
    case MEDIA_OCI_LAYER:
    case MEDIA_DOCKER_LAYER:
      return "uncompressed";
    default:
      return undefined;
  }
}
