// A cache in a registry: the manifest under the user's reference, its config the cache's metadata,
// its layers every blob the entries name. Export pushes only what the registry lacks (HEAD first,
// cross-repository mounts for base layers of the same registry), then the manifest.
import type { Descriptor, Manifest } from "../../oci/types.ts";
import { getManifest } from "../../registry/manifest.ts";
import { fetchBlobToStore } from "../../registry/pull.ts";
import { pushImage } from "../../registry/push-image.ts";
import { formatReference, parseReference, type Reference } from "../../registry/reference.ts";
import { KitError } from "../../util/errors.ts";
import type { BuildEnvironment } from "../environment.ts";
import { cacheKind, type CacheConfig, decodeCache, encodeCache } from "./format.ts";
import type { OpenedCache } from "./importer.ts";

/** Reads the cache's metadata (manifest and config, nothing else); undefined when it is BuildKit's. */
export async function openRegistryCache(env: BuildEnvironment, refText: string, onForeign: () => void, signal: AbortSignal): Promise<OpenedCache | undefined> {
  const ref = parseReference(refText);
  const name = `"${formatReference(ref)}"`;
  const fetched = await getManifest(env.registry, ref, ref.digest ?? (ref.tag as string), signal);
  const manifest = JSON.parse(new TextDecoder().decode(fetched.bytes)) as Manifest;
  const kind = cacheKind(manifest);
  if (kind === "buildkit") {
    onForeign();
    return undefined;
  }
  if (kind !== "kitbuild") throw new KitError("E_CACHE_REMOTE_FORMAT", `${name} is not a kitbuild cache (its config is "${manifest.config?.mediaType}")`);
  await fetchBlobToStore(env.registry, ref, manifest.config, env.store, signal);
  const cache = decodeCache(await env.store.readBytes(manifest.config.digest), name);
  return { name, cache, source: `${ref.domain}/${ref.path}`, fetch: (desc) => fetchBlobToStore(env.registry, ref, desc, env.store, signal) };
}

/** Pushes `cache` under `refText`; `sources` are the repositories base layers came from. */
export async function exportRegistryCache(env: BuildEnvironment, refText: string, cache: CacheConfig, sources: Map<string, string>, signal: AbortSignal): Promise<void> {
  const ref = parseReference(refText);
  const encoded = encodeCache(cache);
  await env.store.writeBytes(encoded.config.bytes, { digest: encoded.config.descriptor.digest }, signal);
  const blobs = cache.layers.map((l) => {
    const desc: Descriptor = { mediaType: l.mediaType, digest: l.digest, size: l.size };
    return { desc, data: Bun.file(env.store.path(l.digest)) as Blob, mountFrom: mountFrom(sources.get(l.digest), ref) };
  });
  blobs.push({ desc: encoded.config.descriptor, data: new Blob([encoded.config.bytes]), mountFrom: [] });
  await pushImage(env.registry, ref, { blobs, manifests: [{ bytes: encoded.manifest.bytes, mediaType: encoded.manifest.descriptor.mediaType }] }, {}, signal);
}

function mountFrom(source: string | undefined, ref: Reference): string[] {
  if (!source?.startsWith(`${ref.domain}/`)) return [];
  const path = source.slice(ref.domain.length + 1);
  return path === ref.path ? [] : [path];
}

