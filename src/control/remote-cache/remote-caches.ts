// The request's cache imports and exports put to work: each `--cache-from` opened (its metadata
// only) as an importer for the result store, a failure being one warning and a miss; each
// `--cache-to` written after the build, a failure failing the build unless ignore-error=true.
import type { CacheImporter } from "../../cache/remote-cache.ts";
import type { InlineCacheEntries } from "../../exporter/image.ts";
import { isImageOutput, type OutputSpec } from "../../exporter/image-options.ts";
import type { Digest } from "../../oci/types.ts";
import { toKitError } from "../../util/errors.ts";
import { type ProgressSink, progressTask } from "../../util/progress.ts";
import type { BuildEnvironment } from "../environment.ts";
import type { CacheExport, CacheImport } from "../request.ts";
import { addCacheMounts } from "./cache-mount-transfer.ts";
import { type BuildRecord, collectCache } from "./collect.ts";
import type { Compression } from "../../exporter/image-options.ts";
import type { CacheConfig } from "./format.ts";
import { cacheImporter, type OpenedCache } from "./importer.ts";
import { exportLocalCache, openLocalCache } from "./local-cache.ts";
import { DEFAULT_MAX_ENTRIES } from "./merge.ts";
import { exportRegistryCache, openRegistryCache } from "./registry-cache.ts";

const nameOf = (c: CacheImport | CacheExport) => (c.type === "registry" ? (c.attrs.ref as string) : (c.attrs.src ?? c.attrs.dest ?? ""));

/** The opened imports: importers for the result store, and the caches (for exports to carry on, and their cache mounts). */
export type OpenedImports = { importers: CacheImporter[]; caches: CacheConfig[]; opened: OpenedCache[] };

export async function openCacheImports(env: BuildEnvironment, imports: readonly CacheImport[], progress: ProgressSink, signal: AbortSignal): Promise<OpenedImports> {
  const out: OpenedImports = { importers: [], caches: [], opened: [] };
  for (const [i, imp] of imports.entries()) {
    await progressTask(progress, `cache-import-${i}`, `importing cache manifest from ${nameOf(imp)}`, async (p) => {
      const foreign = () => p.warn(`${nameOf(imp)} is a BuildKit cache: kitbuild cannot use BuildKit's cache keys, so it counts as a miss`);
      let opened: OpenedCache | undefined;
      try {
        opened = imp.type === "registry"
          ? await openRegistryCache(env, imp.attrs.ref as string, foreign, signal)
          : await openLocalCache(env, imp.attrs.src as string, imp.attrs.tag ?? "latest", foreign, signal);
      } catch (e) {
        if (signal.aborted) throw e;
        p.warn(`cannot import the cache from ${nameOf(imp)}: ${toKitError(e).message}`);
        return;
      }
      if (!opened) return;
      out.importers.push(cacheImporter(env, opened, (message) => p.warn(message)));
      out.caches.push(opened.cache);
      out.opened.push(opened);
    });
  }
  return out;
}

/** `imported`: the caches this build imported, whose steps of the final image an export carries on. */
export type ExportContext = {
  records: readonly BuildRecord[];
  /** Each platform's final result (one unless the build made several platforms). */
  roots: ReadonlyArray<number | null>;
  sourceDateEpoch: number | undefined;
  imported: readonly CacheConfig[];
  /** The newest directory of an unseeded cache mount, for `cache-mounts=`. */
  cacheMountDir: (id: string) => string | undefined;
};

/**
 * `--cache-to type=inline`: the final image's steps as DiffID chains, for the image outputs to carry
 * in their config; undefined when not asked for (a warning when no output writes an image).
 */
export async function inlineCacheEntries(
  env: BuildEnvironment,
  exports: readonly CacheExport[],
  outputs: readonly OutputSpec[],
  ctx: ExportContext,
  progress: ProgressSink,
  signal: AbortSignal,
): Promise<InlineCacheEntries | undefined> {
  if (!exports.some((e) => e.type === "inline")) return undefined;
  return progressTask(progress, "cache-inline", "preparing inline cache", async (p) => {
    if (!outputs.some(isImageOutput)) {
      p.warn("--cache-to type=inline is carried by an image, and this build writes none: add --push, -t NAME with -o type=image, or -o type=oci|docker");
      return undefined;
    }
    const { cache } = await collectCache(env, ctx.records, { mode: "min", roots: ctx.roots, sourceDateEpoch: ctx.sourceDateEpoch, imported: ctx.imported, progress: p, signal });
    const entries: InlineCacheEntries = {};
    for (const [key, e] of Object.entries(cache.entries)) {
      entries[key] = { name: e.name, diffIds: e.outputs.map((chain) => chain.map((i) => cache.layers[i]?.diffId as Digest)) };
    }
    return entries;
  });
}

export async function exportCaches(env: BuildEnvironment, exports: readonly CacheExport[], ctx: ExportContext, progress: ProgressSink, signal: AbortSignal): Promise<void> {
  for (const [i, exp] of exports.entries()) {
    if (exp.type === "inline") continue; // carried by the image outputs
    await progressTask(progress, `cache-export-${i}`, `exporting cache to ${nameOf(exp)}`, async (p) => {
      try {
        const mode = exp.attrs.mode === "max" ? "max" : "min";
        const layers = cacheLayerOptions(exp.attrs);
        const collected = await collectCache(env, ctx.records, { mode, roots: ctx.roots, sourceDateEpoch: ctx.sourceDateEpoch, layers, imported: ctx.imported, progress: p, signal });
        const mountIds = (exp.attrs["cache-mounts"] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
        const cache = mountIds.length > 0 ? await addCacheMounts(env, ctx.cacheMountDir, mountIds, collected.cache, signal) : collected.cache;
        const sources = collected.sources;
        const maxEntries = exp.attrs["max-entries"] ? Number(exp.attrs["max-entries"]) : DEFAULT_MAX_ENTRIES;
        if (exp.type === "registry") await exportRegistryCache(env, exp.attrs.ref as string, cache, sources, maxEntries, signal);
        else exportLocalCache(env, exp.attrs.dest as string, exp.attrs.tag ?? "latest", cache, maxEntries);
        p.statusDone(`${Object.keys(cache.entries).length} steps, ${cache.layers.length} layers (mode=${mode})`);
      } catch (e) {
        if (signal.aborted || exp.attrs["ignore-error"] !== "true") throw e;
        p.warn(`exporting the cache to ${nameOf(exp)} failed, ignored (ignore-error=true): ${toKitError(e).message}`);
      }
    });
  }
}

/** `compression=`, `compression-level=` and `force-compression=` of a cache export (checked by cli/cache-flags.ts). */
function cacheLayerOptions(attrs: Record<string, string | undefined>): { compression: Compression; level?: number; force: boolean } {
  const compression = (attrs.compression ?? "gzip") as Compression;
  const level = attrs["compression-level"];
  return { compression, ...(level !== undefined ? { level: Number(level) } : {}), force: attrs["force-compression"] === "true" };
}
