// How kitbuild's cache travels: an OCI image manifest whose config is the cache's metadata (cache
// keys, the layer chain of each result's outputs) and whose layers are every blob those chains name,
// so a registry keeps them all (and its garbage collection spares them while the tag stands). The
// keys are kitbuild's own: a BuildKit cache (its own config media type) is recognized and skipped.
import { type Blob, jsonBlob } from "../../exporter/manifest.ts";
import { MEDIA_OCI_MANIFEST } from "../../oci/media-types.ts";
import type { Descriptor, Digest } from "../../oci/types.ts";
import { KitError } from "../../util/errors.ts";

export const CACHE_CONFIG_MEDIA_TYPE = "application/vnd.kitbuild.cache.config.v1+json";
/** BuildKit's cache configs (registry and local caches): another builder's keys. */
export const BUILDKIT_CACHE_CONFIG_MEDIA_TYPES = ["application/vnd.buildkit.cacheconfig.v0"];

/** A blob of the cache, with what unpacking it needs. */
export type CacheLayer = { digest: Digest; size: number; mediaType: string; diffId: Digest };

/** One step's result: for each output, its layer chain bottom first (indexes into `layers`); `time` when exported (ms). */
export type CacheEntry = { name: string; outputs: number[][]; time?: number };

/** `mounts`: cache mounts exported on request, by id, each a layer (index into `layers`) of its content. */
export type CacheConfig = { kitbuildCache: 1; layers: CacheLayer[]; entries: Record<string, CacheEntry>; mounts?: Record<string, number> };

export type EncodedCache = { config: Blob; manifest: Blob };

/** The cache's config blob and the manifest that lists it and every layer. */
export function encodeCache(cache: CacheConfig): EncodedCache {
  // Keys in order: the same entries give the same blob whichever order the build met them in.
  const entries = Object.fromEntries(Object.entries(cache.entries).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const config = jsonBlob(CACHE_CONFIG_MEDIA_TYPE, { ...cache, entries });
  const layers = cache.layers.map((l): Descriptor => ({ mediaType: l.mediaType, digest: l.digest, size: l.size }));
  const manifest = jsonBlob(MEDIA_OCI_MANIFEST, { schemaVersion: 2, mediaType: MEDIA_OCI_MANIFEST, config: config.descriptor, layers });
  return { config, manifest };
}

/** What a cache manifest's config is: kitbuild's, BuildKit's, or something else. */
export function cacheKind(manifest: { config?: { mediaType?: string } }): "kitbuild" | "buildkit" | "other" {
  const type = manifest.config?.mediaType ?? "";
  if (type === CACHE_CONFIG_MEDIA_TYPE) return "kitbuild";
  return BUILDKIT_CACHE_CONFIG_MEDIA_TYPES.includes(type) ? "buildkit" : "other";
}

/** Reads a config blob; anything malformed is E_CACHE_REMOTE_FORMAT. */
export function decodeCache(bytes: Uint8Array, where: string): CacheConfig {
  let doc: CacheConfig;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes)) as CacheConfig;
  } catch (e) {
    throw new KitError("E_CACHE_REMOTE_FORMAT", `the cache in ${where} is not valid JSON`, { cause: e });
  }
  const ok = doc && doc.kitbuildCache === 1 && Array.isArray(doc.layers) && typeof doc.entries === "object" && doc.entries !== null;
  if (!ok) throw new KitError("E_CACHE_REMOTE_FORMAT", `the cache in ${where} is not one kitbuild wrote`);
  return doc;
}
