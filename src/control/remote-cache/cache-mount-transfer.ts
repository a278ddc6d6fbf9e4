// Cache mounts that travel with a remote cache, when asked (`--cache-to …,cache-mounts=ID[,ID]`):
// the newest directory of each id is packed as a gzipped tar layer of the cache; on a machine that
// imports it, a cache mount of that id that does not exist yet starts as that layer's content.
// Nothing else of a cache mount ever leaves the machine.
import { stream } from "../../util/lazy-modules.ts";
import { TarWriter } from "../../archive/tar-writer.ts";
import { packTree } from "../../archive/tar.ts";
import { compressStream } from "../../exporter/compress.ts";
import { MEDIA_OCI_LAYER_GZIP } from "../../oci/media-types.ts";
import type { Digest } from "../../oci/types.ts";
import { applyLayerFile } from "../../snapshot/layer-apply.ts";
import { KitError } from "../../util/errors.ts";
import type { BuildEnvironment } from "../environment.ts";
import type { CacheConfig, CacheLayer } from "./format.ts";
import { type OpenedCache, SILENT_PROGRESS } from "./importer.ts";

/** Adds the newest directory of each of `ids` to `cache` as a layer under `mounts`. */
export async function addCacheMounts(env: BuildEnvironment, dirOf: (id: string) => string | undefined, ids: readonly string[], cache: CacheConfig, signal: AbortSignal): Promise<CacheConfig> {
  const mounts: Record<string, number> = { ...cache.mounts };
  const layers = [...cache.layers];
  for (const id of ids) {
    const dir = dirOf(id);
    if (!dir) throw new KitError("E_CACHE_REMOTE_EXPORT", `no cache mount with id "${id}" was used on this machine`, { hint: "name the id a RUN --mount=type=cache uses (its id=, else its target)" });
    layers.push(await packDirectory(env, dir, signal));
    mounts[id] = layers.length - 1;
  }
  return { ...cache, layers, mounts };
}

/** The directory as a gzipped tar, in one pass: the tar hashed on its way to the compressor (its DiffID). */
async function packDirectory(env: BuildEnvironment, dir: string, signal: AbortSignal): Promise<CacheLayer> {
  const tar = new TarWriter();
  const hasher = new Bun.CryptoHasher("sha256");
  const hashed = tar.stream.pipe(
    new (stream().Transform)({
      transform(chunk: Buffer, _enc, cb) {
        hasher.update(chunk);
        cb(null, chunk);
      },
    }),
  );
  const written = env.store.write(compressStream(hashed, "gzip"), {}, signal);
  try {
    await packTree(dir, tar, { signal });
    await tar.finish();
  } catch (e) {
    tar.abort(e instanceof Error ? e : new Error(String(e)));
    await written.catch(() => {});
    throw e;
  }
  const digest = await written;
  const size = Bun.file(env.store.path(digest)).size;
  return { digest, size, mediaType: MEDIA_OCI_LAYER_GZIP, diffId: `sha256:${hasher.digest("hex")}` as Digest };
}

export type MountSeed = (dir: string, signal: AbortSignal) => Promise<void>;

/** How to fill a new cache mount directory of each id the imported caches carry (the first wins). */
export function cacheMountSeeds(env: BuildEnvironment, caches: readonly OpenedCache[]): Map<string, MountSeed> {
  const seeds = new Map<string, MountSeed>();
  for (const opened of caches) {
    for (const [id, index] of Object.entries(opened.cache.mounts ?? {})) {
      const layer = opened.cache.layers[index];
      if (!layer || seeds.has(id)) continue;
      seeds.set(id, async (dir, signal) => {
        await opened.fetch(SILENT_PROGRESS)({ mediaType: layer.mediaType, digest: layer.digest, size: layer.size });
        const { diffId } = await applyLayerFile(env.store.path(layer.digest), "gzip", dir, { preserveOwner: true, name: `cache mount "${id}"`, signal });
        if (diffId !== layer.diffId) throw new KitError("E_CACHE_REMOTE_FORMAT", `the cache mount "${id}" in ${opened.name} unpacks to "${diffId}", not "${layer.diffId}"`);
      });
    }
  }
  return seeds;
}
