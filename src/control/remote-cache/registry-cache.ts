// A cache in a registry: the manifest under the user's reference, its config the cache's metadata,
// its layers every blob the entries name. Export pushes only what the registry lacks (HEAD first,
// cross-repository mounts for base layers of the same registry), then the manifest.
import type { IngestListener } from "../../content/store.ts";
import type { Descriptor, ImageConfig, Manifest } from "../../oci/types.ts";
import { INDEX_MEDIA_TYPES } from "../../oci/media-types.ts";
import { formatPlatform, hostPlatform } from "../../oci/platform.ts";
import { getManifest } from "../../registry/manifest.ts";
import { choosePlatform } from "../../registry/platform.ts";
import { fetchBlobToStore } from "../../registry/pull.ts";
import { pushBlob } from "../../registry/push.ts";
import { mountSources, pushImage } from "../../registry/push-image.ts";
import { formatReference, parseReference, type Reference } from "../../registry/reference.ts";
import { KitError } from "../../util/errors.ts";
import type { BuildEnvironment } from "../environment.ts";
import { sleep } from "../../util/abort.ts";
import type { VertexProgress } from "../../util/progress.ts";
import { cacheKind, type CacheConfig, decodeCache, encodeCache } from "./format.ts";
import { holdsEntries, mergeCaches } from "./merge.ts";
import type { OpenedCache } from "./importer.ts";

/** Reads the cache's metadata (manifest and config, nothing else); undefined when it is BuildKit's. */
export async function openRegistryCache(env: BuildEnvironment, refText: string, onForeign: () => void, signal: AbortSignal): Promise<OpenedCache | undefined> {
  const ref = parseReference(refText);
  const name = `"${formatReference(ref)}"`;
  const manifest = await platformManifest(env, ref, name, signal);
  const kind = cacheKind(manifest);
  if (kind === "buildkit") {
    onForeign();
    return undefined;
  }
  await fetchBlobToStore(env.registry, ref, manifest.config, env.store, signal);
  const configBytes = await env.store.readBytes(manifest.config.digest);
  const cache = kind === "kitbuild" ? decodeCache(configBytes, name) : inlineCache(configBytes, name);
  const fetch = (progress: VertexProgress) => (desc: Descriptor, ingest?: IngestListener) =>
    fetchBlobToStore(env.registry, ref, desc, env.store, signal, { progress: (cur, total) => progress.status(desc.digest, cur, total), ingest });
  return { name, cache, source: `${ref.domain}/${ref.path}`, fetch };
}

/**
 * The manifest under `ref`; for an image index (an image pushed with attestations, whose config
 * carries an inline cache) the host platform's image manifest in it.
 */
async function platformManifest(env: BuildEnvironment, ref: Reference, name: string, signal: AbortSignal): Promise<Manifest> {
  const fetched = await getManifest(env.registry, ref, ref.digest ?? (ref.tag as string), signal);
  const doc = JSON.parse(new TextDecoder().decode(fetched.bytes)) as Manifest & { manifests?: Descriptor[] };
  if (!INDEX_MEDIA_TYPES.includes(fetched.mediaType)) return doc;
  const chosen = choosePlatform(doc.manifests ?? [], hostPlatform());
  if (!chosen) throw new KitError("E_CACHE_REMOTE_FORMAT", `${name} has no image for ${formatPlatform(hostPlatform())}`, { hint: "import a cache made on this platform" });
  const child = await getManifest(env.registry, ref, chosen.digest, signal);
  return JSON.parse(new TextDecoder().decode(child.bytes)) as Manifest;
}

const NOT_THERE = ["E_REGISTRY_NOT_FOUND", "E_REGISTRY_NAME_UNKNOWN", "E_REGISTRY_MANIFEST_UNKNOWN"];
const EXPORT_TRIES = 5;

/** An image's inline cache (`--cache-to type=inline`): in its config, over the image's own layers. */
function inlineCache(configBytes: Uint8Array, name: string): CacheConfig {
  let doc: ImageConfig;
  try {
    doc = JSON.parse(new TextDecoder().decode(configBytes)) as ImageConfig;
  } catch (e) {
    throw new KitError("E_CACHE_REMOTE_FORMAT", `${name} is neither a kitbuild cache nor an image`, { cause: e });
  }
  const inline = doc["kitbuild.cache.v1"];
  if (!inline) throw new KitError("E_CACHE_REMOTE_FORMAT", `${name} is an image without an inline cache`, { hint: "build it with --cache-to type=inline (or --build-arg BUILDKIT_INLINE_CACHE=1)" });
  return decodeCache(new TextEncoder().encode(JSON.stringify(inline)), name);
}

/** The kitbuild cache at `ref`, undefined when there is none (or another kind of manifest). */
async function readRegistryCache(env: BuildEnvironment, ref: Reference, signal: AbortSignal): Promise<CacheConfig | undefined> {
  try {
    const opened = await openRegistryCache(env, formatReference(ref), () => {}, signal);
    return opened?.cache;
  } catch (e) {
    if (e instanceof KitError && (NOT_THERE.includes(e.code) || e.code === "E_CACHE_REMOTE_FORMAT")) return undefined;
    throw e;
  }
}

/**
 * Merges `ours` into the cache at `refText` and pushes the result. The registry cannot replace a
 * manifest only if it is unchanged, so the writer looks again a moment later: when a concurrent
 * export replaced the manifest without our entries, it merges and writes again.
 */
export async function exportRegistryCache(env: BuildEnvironment, refText: string, ours: CacheConfig, sources: Map<string, string>, maxEntries: number, signal: AbortSignal): Promise<void> {
  const ref = parseReference(refText);
  // Our layers go up before the cache is read, so that between reading it and replacing its
  // manifest there are only HEADs and the config: a concurrent export that read the cache before
  // our manifest landed cannot still be uploading when we look again (its write would erase ours).
  for (const blob of cacheBlobs(env, ref, ours, sources)) await pushBlob(env.registry, ref, blob.desc, blob.data, { mountFrom: blob.mountFrom }, signal);
  for (let attempt = 1; attempt <= EXPORT_TRIES; attempt++) {
    const merged = mergeCaches(await readRegistryCache(env, ref, signal), ours, maxEntries);
    await pushCache(env, ref, merged, sources, signal);
    await sleep(100 + Math.random() * 300, signal);
    if (holdsEntries(await readRegistryCache(env, ref, signal), ours)) return;
  }
  throw new KitError("E_CACHE_REMOTE_EXPORT", `the cache at "${formatReference(ref)}" kept being replaced by other exports (${EXPORT_TRIES} tries)`, {
    hint: "run the build again, or export to a reference of its own",
  });
}

async function pushCache(env: BuildEnvironment, ref: Reference, cache: CacheConfig, sources: Map<string, string>, signal: AbortSignal): Promise<void> {
  const encoded = encodeCache(cache);
  await env.store.writeBytes(encoded.config.bytes, { digest: encoded.config.descriptor.digest }, signal);
  const blobs = cacheBlobs(env, ref, cache, sources);
  blobs.push({ desc: encoded.config.descriptor, data: new Blob([encoded.config.bytes]), mountFrom: [] });
  await pushImage(env.registry, ref, { blobs, manifests: [{ bytes: encoded.manifest.bytes, mediaType: encoded.manifest.descriptor.mediaType }] }, {}, signal);
}

/** The layers a cache names, to push: layers of entries other exports wrote are in the repository already (HEAD says so). */
function cacheBlobs(env: BuildEnvironment, ref: Reference, cache: CacheConfig, sources: Map<string, string>): Array<{ desc: Descriptor; data: Blob; mountFrom: string[] }> {
  return cache.layers.map((l) => {
    const desc: Descriptor = { mediaType: l.mediaType, digest: l.digest, size: l.size };
    const data = env.store.hasSync(l.digest) ? (Bun.file(env.store.path(l.digest)) as Blob) : new Blob([new Uint8Array(l.size)]);
    return { desc, data, mountFrom: mountSources(sources.get(l.digest), ref) };
  });
}
