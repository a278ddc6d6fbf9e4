// The request's cache imports and exports put to work: each `--cache-from` opened (its metadata
// only) as an importer for the result store, a failure being one warning and a miss; each
// `--cache-to` written after the build, a failure failing the build unless ignore-error=true.
import type { CacheImporter } from "../../cache/remote-cache.ts";
import { toKitError } from "../../util/errors.ts";
import { type ProgressSink, progressTask } from "../../util/progress.ts";
import type { BuildEnvironment } from "../environment.ts";
import type { CacheExport, CacheImport } from "../request.ts";
import { type BuildRecord, collectCache } from "./collect.ts";
import { cacheImporter, type OpenedCache } from "./importer.ts";
import { exportLocalCache, openLocalCache } from "./local-cache.ts";
import { DEFAULT_MAX_ENTRIES } from "./merge.ts";
import { exportRegistryCache, openRegistryCache } from "./registry-cache.ts";

const nameOf = (c: CacheImport | CacheExport) => (c.type === "registry" ? (c.attrs.ref as string) : (c.attrs.src ?? c.attrs.dest ?? ""));

export async function openCacheImports(env: BuildEnvironment, imports: readonly CacheImport[], progress: ProgressSink, signal: AbortSignal): Promise<CacheImporter[]> {
  const out: CacheImporter[] = [];
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
      if (opened) out.push(cacheImporter(env, opened, (message) => p.warn(message)));
    });
  }
  return out;
}

export type ExportContext = { records: readonly BuildRecord[]; root: number | null; sourceDateEpoch: number | undefined };

export async function exportCaches(env: BuildEnvironment, exports: readonly CacheExport[], ctx: ExportContext, progress: ProgressSink, signal: AbortSignal): Promise<void> {
  for (const [i, exp] of exports.entries()) {
    await progressTask(progress, `cache-export-${i}`, `exporting cache to ${nameOf(exp)}`, async (p) => {
      try {
        const mode = exp.attrs.mode === "max" ? "max" : "min";
        const { cache, sources } = await collectCache(env, ctx.records, { mode, root: ctx.root, sourceDateEpoch: ctx.sourceDateEpoch, progress: p, signal });
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
