// A cache in an OCI image layout directory (`type=local`): blobs under blobs/sha256/, the cache's
// manifest in index.json under its tag (org.opencontainers.image.ref.name, "latest" by default), so
// CI systems can keep the directory with their own cache actions.
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { Descriptor, Digest, Manifest } from "../../oci/types.ts";
import { errnoCode, KitError } from "../../util/errors.ts";
import type { BuildEnvironment } from "../environment.ts";
import { cacheKind, type CacheConfig, decodeCache, encodeCache } from "./format.ts";
import type { OpenedCache } from "./importer.ts";
import { mergeCaches } from "./merge.ts";

const REF_NAME = "org.opencontainers.image.ref.name";

type LayoutIndex = { schemaVersion: 2; manifests: Array<Descriptor & { annotations?: Record<string, string> }> };

const blobPath = (dir: string, digest: Digest) => `${dir}/blobs/${digest.replace(":", "/")}`;

function readIndex(dir: string): LayoutIndex {
  try {
    return JSON.parse(readFileSync(`${dir}/index.json`, "utf8")) as LayoutIndex;
  } catch (e) {
    if (errnoCode(e) === "ENOENT") throw new KitError("E_CACHE_REMOTE_MISSING", `"${dir}" holds no cache (no index.json)`, { cause: e });
    throw new KitError("E_CACHE_REMOTE_FORMAT", `"${dir}/index.json" cannot be read`, { cause: e });
  }
}

export async function openLocalCache(env: BuildEnvironment, dir: string, tag: string, onForeign: () => void, signal: AbortSignal): Promise<OpenedCache | undefined> {
  const name = `"${dir}" (tag ${tag})`;
  const entry = readIndex(dir).manifests.find((m) => m.annotations?.[REF_NAME] === tag);
  if (!entry) throw new KitError("E_CACHE_REMOTE_MISSING", `${name} has no cache under that tag`);
  const manifest = JSON.parse(readFileSync(blobPath(dir, entry.digest), "utf8")) as Manifest;
  const kind = cacheKind(manifest);
  if (kind === "buildkit") {
    onForeign();
    return undefined;
  }
  if (kind !== "kitbuild") throw new KitError("E_CACHE_REMOTE_FORMAT", `${name} is not a kitbuild cache`);
  const cache = decodeCache(readFileSync(blobPath(dir, manifest.config.digest)), name);
  const fetch = () => async (desc: Descriptor) => {
    if (await env.store.has(desc.digest)) return;
    await env.store.write(Bun.file(blobPath(dir, desc.digest)).stream(), { digest: desc.digest, size: desc.size }, signal);
  };
  return { name, cache, fetch, source: "" };
}

/** The kitbuild cache under `tag` in `dir`, undefined when there is none. */
function readLocalCache(dir: string, tag: string): CacheConfig | undefined {
  if (!existsSync(`${dir}/index.json`)) return undefined;
  const entry = readIndex(dir).manifests.find((m) => m.annotations?.[REF_NAME] === tag);
  if (!entry) return undefined;
  const manifest = JSON.parse(readFileSync(blobPath(dir, entry.digest), "utf8")) as Manifest;
  return cacheKind(manifest) === "kitbuild" ? decodeCache(readFileSync(blobPath(dir, manifest.config.digest)), `"${dir}"`) : undefined;
}

/**
 * Merges `ours` into the cache under `tag` in `dir` (the oldest entries past `maxEntries` dropped),
 * writes the blobs, config and manifest, and names the manifest `tag` in index.json.
 */
export function exportLocalCache(env: BuildEnvironment, dir: string, tag: string, ours: CacheConfig, maxEntries: number): void {
  const cache = mergeCaches(readLocalCache(dir, tag), ours, maxEntries);
  const encoded = encodeCache(cache);
  mkdirSync(`${dir}/blobs/sha256`, { recursive: true });
  writeFileSync(`${dir}/oci-layout`, `${JSON.stringify({ imageLayoutVersion: "1.0.0" })}\n`);
  for (const l of cache.layers) {
    // Blobs of entries earlier exports wrote are here already; ours come from the content store.
    if (!existsSync(blobPath(dir, l.digest))) copyFileSync(env.store.path(l.digest), blobPath(dir, l.digest));
  }
  writeFileSync(blobPath(dir, encoded.config.descriptor.digest), encoded.config.bytes);
  writeFileSync(blobPath(dir, encoded.manifest.descriptor.digest), encoded.manifest.bytes);
  const index: LayoutIndex = existsSync(`${dir}/index.json`) ? readIndex(dir) : { schemaVersion: 2, manifests: [] };
  index.manifests = [...index.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag), { ...encoded.manifest.descriptor, annotations: { [REF_NAME]: tag } }];
  const tmp = `${dir}/index.json.${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(index)}\n`);
  renameSync(tmp, `${dir}/index.json`);
}
