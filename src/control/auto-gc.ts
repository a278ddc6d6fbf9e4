// Automatic garbage collection after a build, as buildkitd's default policy: when the whole cache
// (snapshots, cache mounts, blobs, partial downloads) exceeds its limit, source checkouts (git and
// http sources) and cache mounts unused for 48 hours go first, then the least recently used records
// until the cache fits. Nothing a running build holds goes (leases; the build that runs the GC
// still holds everything it used), and base layers and blobs stay while another kitbuild process
// has the cache root open. Each removal is the prune's (marked, then removed; crash-safe).
import { statfsSync } from "node:fs";
import { othersOpen } from "../cache/processes.ts";
import { isProcessAlive } from "../util/process.ts";
import { type ProgressSink, progressTask } from "../util/progress.ts";
import { formatBytes } from "../util/units.ts";
import { CACHE_MOUNT_KIND, cacheTotal, cacheUsage, pruneCache, type UsageRecord } from "./cache-admin.ts";
import type { BuildEnvironment } from "./environment.ts";

const GB = 1e9;
const MIN_DEFAULT = 2 * GB;
const MAX_DEFAULT = 100 * GB;
const SOURCE_KINDS = ["git", "http"];
const UNUSED_FIRST_MS = 48 * 3600 * 1000;

/** The limit: the configured one (0: off), else 10% of the cache root's filesystem within 2 GB to 100 GB. */
export function gcLimit(configured: number | undefined, root: string): number {
  if (configured !== undefined) return configured;
  const st = statfsSync(root);
  return Math.min(MAX_DEFAULT, Math.max(MIN_DEFAULT, Math.floor(st.blocks * st.bsize * 0.1)));
}

export type GcOutcome = { removed: UsageRecord[]; before: number; after: number; limit: number };

/** Runs the GC when the cache exceeds `limit` (0: off); returns what it did, or undefined when it had nothing to do. */
export async function collectGarbage(env: BuildEnvironment, limit: number, usage?: number): Promise<GcOutcome | undefined> {
  if (limit <= 0) return undefined;
  const before = usage ?? total(await cacheUsage(env));
  if (before <= limit) return undefined;
  const removed = await pruneCache(env, { all: false, kinds: SOURCE_KINDS, olderThanMs: UNUSED_FIRST_MS, cacheMounts: false });
  removed.push(...(await pruneOldCacheMounts(env)));
  // Base layers only while no other kitbuild process has the root open: a pull looks a layer up
  // before it leases it, so another process could be about to use one nothing holds yet.
  const alone = !othersOpen(env.index.db, isProcessAlive);
  removed.push(...(await pruneCache(env, { all: alone, keepBytes: limit })));
  return { removed, before, after: total(await cacheUsage(env)), limit };
}

/** Cache mounts unused for 48 hours (and nothing else). */
function pruneOldCacheMounts(env: BuildEnvironment): Promise<UsageRecord[]> {
  return pruneCache(env, { all: false, kinds: [CACHE_MOUNT_KIND], olderThanMs: UNUSED_FIRST_MS, cacheMounts: true });
}

function total(records: readonly UsageRecord[]): number {
  return records.reduce((s, r) => s + r.size, 0);
}

/** The GC after a build, reported as a task of its own only when it had work to do. */
export async function gcAfterBuild(env: BuildEnvironment, configured: number | undefined, progress: ProgressSink): Promise<void> {
  const limit = gcLimit(configured, env.root);
  if (limit <= 0) return;
  const before = await cacheTotal(env);
  if (before <= limit) return;
  await progressTask(progress, "gc", "[internal] garbage collection", async (p) => {
    try {
      const outcome = await collectGarbage(env, limit, before);
      if (!outcome) return;
      const freed = outcome.removed.reduce((s, r) => s + r.size, 0);
      p.statusDone(`gc: removed ${outcome.removed.length} records, ${formatBytes(freed)} freed (cache ${formatBytes(outcome.after)}, limit ${formatBytes(limit)})`);
    } catch (e) {
      // The build itself succeeded; what the GC left is the next one's (or prune's) to remove.
      p.warn(`garbage collection failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}
