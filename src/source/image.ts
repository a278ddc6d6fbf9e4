// Image sources: resolving a reference to one platform's manifest and config (in kitbuild's image
// store first, stored-image.ts, unless --pull), and pulling its layers into snapshots. Layer
// snapshots are shared by chain id, so a base image is unpacked once per cache.
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { stream } from "../util/lazy-modules.ts";
import type { CacheIndex } from "../cache/index.ts";
import { PULLED, putLayerBlob } from "../cache/layer-blobs.ts";
import { chainIds as chainIdsFor } from "../cache/layer-chains.ts";
import { GrowingBlob } from "../content/growing-blob.ts";
import type { ContentStore, IngestListener } from "../content/store.ts";
import { INDEX_MEDIA_TYPES, layerCompression } from "../oci/media-types.ts";
import { formatPlatform } from "../oci/platform.ts";
import { choosePlatform } from "../registry/platform.ts";
import type { Descriptor, Digest, ImageConfig, Index, Manifest, Platform } from "../oci/types.ts";
import type { RegistryClient } from "../registry/client.ts";
import { getManifest } from "../registry/manifest.ts";
import { fetchBlobToStore } from "../registry/pull.ts";
import { formatReference, type Reference } from "../registry/reference.ts";
import { applyLayerStream } from "../snapshot/layer-apply.ts";
import type { Snapshotter } from "../snapshot/snapshotter.ts";
import { KitError } from "../util/errors.ts";
import { Limiter } from "../util/limiter.ts";
import { missingBlob, resolveStored } from "./stored-image.ts";
import type { VertexProgress } from "../util/progress.ts";

export type ResolvedImage = {
  /** The reference pinned to the resolved manifest (or index) digest. */
  ref: Reference;
  manifestDigest: Digest;
  manifest: Manifest;
  config: ImageConfig;
  configDigest: Digest;
  /** Kept in kitbuild's image store: its blobs are in the content store (see stored-image.ts). */
  stored?: true;
};

/** How a tag is resolved: kitbuild's image store first ("local"), or always the registry ("pull": --pull). */
export type ResolveMode = "local" | "pull";

export type ImageSourceDeps = {
  registry: RegistryClient;
  store: ContentStore;
  index: CacheIndex;
  snapshotter: Snapshotter;
  preserveOwner: boolean;
};

const PARALLEL_DOWNLOADS = 4;

/** One layer of a chain: its blob and the digest of its uncompressed tar. */
export type ChainLayer = { desc: Descriptor; diffId: Digest };

/**
 * Brings a layer's blob into the content store (verified by digest), telling `ingest` (when given)
 * how the store's temp file grows, so that the layer can be unpacked while it downloads.
 */
export type LayerFetcher = (desc: Descriptor, ingest?: IngestListener) => Promise<void>;

/** A blob being downloaded: `done` when it is in the store, `growing` to read it before. */
type Download = { done: Promise<void>; growing: GrowingBlob };

/** A layer's bytes: the stored blob, or the download in progress (to be kept only once `verified`). */
type LayerBytes = { open: () => Readable; verified: Promise<void> };

export class ImageSource {
  private readonly downloads = new Limiter(PARALLEL_DOWNLOADS);
  /**
   * Layers being unpacked, by chain id: two bases that share layers (or stages pulled at once) wait
   * for one unpack instead of making the same snapshot twice side by side. Other processes are
   * handled by the index (the first snapshot recorded for a chain id wins).
   */
  private readonly unpacking = new Map<string, Promise<number>>();
  private readonly downloading = new Map<string, Download>();

  constructor(private readonly deps: ImageSourceDeps) {}

  async resolve(ref: Reference, platform: Platform, signal: AbortSignal, mode: ResolveMode = "local"): Promise<ResolvedImage> {
    if (mode === "local") {
      const stored = await resolveStored(this.deps.index, this.deps.store, ref, platform);
      if (stored) return { ...stored, stored: true };
    }
    return this.resolveRemote(ref, platform, signal);
  }

  private async resolveRemote(ref: Reference, platform: Platform, signal: AbortSignal): Promise<ResolvedImage> {
    const top = await getManifest(this.deps.registry, ref, ref.digest ?? (ref.tag as string), signal);
    let manifestDoc = top;
    if (INDEX_MEDIA_TYPES.includes(top.mediaType)) {
      const index = JSON.parse(new TextDecoder().decode(top.bytes)) as Index;
      const chosen = choosePlatform(index.manifests, platform);
      if (!chosen) throw noPlatformError(ref, top.digest, index, platform);
      manifestDoc = await getManifest(this.deps.registry, ref, chosen.digest, signal);
    }
    const manifest = JSON.parse(new TextDecoder().decode(manifestDoc.bytes)) as Manifest;
    await this.deps.store.writeBytes(manifestDoc.bytes, { digest: manifestDoc.digest }, signal);
    await fetchBlobToStore(this.deps.registry, ref, manifest.config, this.deps.store, signal);
    const configBytes = await this.deps.store.readBytes(manifest.config.digest);
    const config = parseImageConfig(configBytes, ref, manifest.config.digest);
    if ((config.rootfs?.diff_ids ?? []).length !== manifest.layers.length) {
      throw new KitError("E_REGISTRY_BAD_MANIFEST", `"${formatReference(ref)}" lists ${manifest.layers.length} layers but its config has ${config.rootfs?.diff_ids?.length ?? 0} diff ids`);
    }
    const pinned: Reference = { domain: ref.domain, path: ref.path, digest: top.digest };
    if (ref.tag) pinned.tag = ref.tag;
    return { ref: pinned, manifestDigest: manifestDoc.digest, manifest, config, configDigest: manifest.config.digest };
  }

  /** Makes sure every layer is unpacked; returns the snapshot of the top layer (null: no layers). */
  pull(img: ResolvedImage, progress: VertexProgress, signal: AbortSignal): Promise<number | null> {
    const chain = img.manifest.layers.map((desc, i) => ({ desc, diffId: img.config.rootfs.diff_ids[i] as Digest }));
    // No registry holds a stored image's blobs for a push to mount from.
    if (img.stored) return this.pullChain(chain, (desc) => this.checkStored(desc, img.ref), "", progress, signal);
    const fetch: LayerFetcher = (desc, ingest) =>
      fetchBlobToStore(this.deps.registry, img.ref, desc, this.deps.store, signal, {
        progress: (cur, total) => progress.status(desc.digest, cur, total),
        // As BuildKit's retry handler, retries are told in the step's log.
        retry: (message) => progress.log(2, new TextEncoder().encode(`${message}\n`)),
        ingest,
      });
    return this.pullChain(chain, fetch, `${img.ref.domain}/${img.ref.path}`, progress, signal);
  }

  /** A stored image's layer is already in the content store (or the store was damaged). */
  private async checkStored(desc: Descriptor, ref: Reference): Promise<void> {
    if (!(await this.deps.store.has(desc.digest))) throw missingBlob(desc.digest, ref);
  }

  /**
   * Unpacks a chain of layers (bottom first) whose blobs `fetch` brings into the content store,
   * sharing snapshots by chain id; returns the top one's snapshot. `source` is the repository the
   * blobs came from, so an image export can mount rather than upload them.
   */
  async pullChain(chain: ChainLayer[], fetch: LayerFetcher, source: string, progress: VertexProgress, signal: AbortSignal): Promise<number | null> {
    const chainIds = chainIdsFor(chain.map((l) => l.diffId));
    const top = chainIds.at(-1);
    if (top === undefined) return null;
    const existingTop = this.deps.index.layerSnapshot(top);
    if (existingTop !== undefined) return existingTop;
    const missing = chain.filter((_, i) => this.deps.index.layerSnapshot(chainIds[i] as string) === undefined);
    const fetched = new Map(missing.map((l) => [l.desc.digest, this.download(l.desc, fetch, progress, signal)]));
    for (const d of fetched.values()) d.done.catch(() => {}); // awaited in order below
    let parent: number | null = null;
    for (const [i, layer] of chain.entries()) {
      const chainId = chainIds[i] as string;
      const known = this.deps.index.layerSnapshot(chainId);
      if (known !== undefined) {
        parent = known;
        continue;
      }
      const download = fetched.get(layer.desc.digest);
      parent = await this.unpackOnce(chainId, parent, (below) => this.unpackFetched(layer, download, chainId, below, source, progress, signal));
    }
    return parent;
  }

  /** The snapshot of `chainId`: unpacked by `make` over `parent`, or by whoever in this process is already unpacking it. */
  private async unpackOnce(chainId: string, parent: number | null, make: (parent: number | null) => Promise<number>): Promise<number> {
    const running = this.unpacking.get(chainId);
    if (running) return running;
    const known = this.deps.index.layerSnapshot(chainId);
    if (known !== undefined) return known;
    const made = make(parent).finally(() => this.unpacking.delete(chainId));
    this.unpacking.set(chainId, made);
    return made;
  }

  /** Brings a blob into the content store; a blob this process is already downloading is waited for, not fetched again. */
  private download(desc: Descriptor, fetch: LayerFetcher, progress: VertexProgress, signal: AbortSignal): Download {
    const running = this.downloading.get(desc.digest);
    if (running) return running;
    const growing = new GrowingBlob();
    const done = this.downloads
      .run(async () => {
        await fetch(desc, growing);
        progress.statusDone(desc.digest, desc.size, desc.size);
      }, signal)
      .finally(() => {
        growing.settled();
        this.downloading.delete(desc.digest);
      });
    const download = { done, growing };
    this.downloading.set(desc.digest, download);
    return download;
  }

  /**
   * Unpacks a layer as its blob downloads when it is still downloading (a download is faster
   * than unpacking on a fast network, and the other way round on a slow one: either way one waits
   * for the slower, not for the sum), else from the store once it is there.
   */
  private async unpackFetched(layer: ChainLayer, download: Download | undefined, chainId: string, parent: number | null, source: string, progress: VertexProgress, signal: AbortSignal): Promise<number> {
    const live = download?.growing.claim(signal);
    if (live && download) {
      try {
        const bytes: LayerBytes = { open: () => stream().Readable.from(live, { objectMode: false }), verified: download.done };
        return await this.unpack(layer.desc, layer.diffId, chainId, parent, source, bytes, progress, signal);
      } catch (e) {
        if (signal.aborted) {
          // As before the unpack: the build ends only once the download has removed its temp file.
          await download.done.catch(() => {});
          throw e;
        }
        // The download's own failure is the error, as when the layer is unpacked from the store.
        await download.done;
        // It started over (or never wrote): what was unpacked is gone; unpack the stored blob.
        if (!download.growing.fellBack) throw e;
      }
    }
    await download?.done;
    const path = this.deps.store.path(layer.desc.digest);
    const stored: LayerBytes = { open: () => createReadStream(path, { highWaterMark: 1 << 20 }), verified: Promise.resolve() };
    return this.unpack(layer.desc, layer.diffId, chainId, parent, source, stored, progress, signal);
  }

  /** Unpacks one layer over `parent`; `source` is the repository it came from. */
  private async unpack(layer: Descriptor, diffId: Digest, chainId: string, parent: number | null, source: string, bytes: LayerBytes, progress: VertexProgress, signal: AbortSignal): Promise<number> {
    const compression = layerCompression(layer.mediaType);
    if (!compression) throw new KitError("E_LAYER_UNSUPPORTED", `layer media type "${layer.mediaType}" is not supported`);
    const statusId = `extracting ${layer.digest}`;
    progress.status(statusId, 0);
    await using active = await this.deps.snapshotter.prepare(parent, "layer");
    let applied: { diffId: Digest };
    {
      await using target = await active.mount();
      applied = await applyLayerStream(bytes.open(), compression, target.path, {
        preserveOwner: this.deps.preserveOwner,
        name: this.deps.store.path(layer.digest),
        signal,
      });
    }
    // Bytes read as they downloaded are kept only once the download has checked their digest.
    await bytes.verified;
    if (applied.diffId !== diffId) {
      throw new KitError("E_LAYER_DIFFID_MISMATCH", `layer "${layer.digest}" unpacks to "${applied.diffId}", but the image config says "${diffId}"`, {
        hint: "the image is corrupt; nothing was kept",
      });
    }
    const id = await active.commit();
    const winner = this.deps.index.putLayerSnapshot(chainId, id, diffId);
    if (winner !== id) await this.deps.snapshotter.remove(id); // another process unpacked it first
    // An image export reuses this layer exactly as pulled.
    putLayerBlob(this.deps.index.db, winner, PULLED, { mediaType: layer.mediaType, digest: layer.digest, size: layer.size, diffId, source });
    progress.statusDone(statusId);
    return winner;
  }
}

/**
 * An index without the platform asked for, worded as BuildKit's (containerd's "no match for platform
 * in manifest"); the hint names the platform and what the index has.
 */
function noPlatformError(ref: Reference, digest: Digest, index: Index, platform: Platform): KitError {
  const have = [...new Set(index.manifests.filter((m) => m.platform && m.platform.os !== "unknown").map((m) => formatPlatform(m.platform as Platform)))];
  const wanted = formatPlatform(platform);
  return new KitError("E_REGISTRY_NO_PLATFORM", `failed to resolve source metadata for ${formatReference(ref)}: no match for platform in manifest ${digest}: not found`, {
    hint: `"${formatReference(ref)}" has no image for ${wanted}${have.length > 0 ? ` (it has ${have.join(", ")})` : ""}; build for one it has with --platform, or pick another base image`,
  });
}

/** A config blob matched its digest, but the image it describes can still be broken. */
function parseImageConfig(bytes: Uint8Array, ref: Reference, digest: Digest): ImageConfig {
  let config: unknown;
  try {
    config = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    config = undefined;
  }
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new KitError("E_REGISTRY_BAD_MANIFEST", `the config of "${formatReference(ref)}" (digest "${digest}") is not a JSON object`, {
      hint: "the image is broken in the registry; push it again",
    });
  }
  return config as ImageConfig;
}
