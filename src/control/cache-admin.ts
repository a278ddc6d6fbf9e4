// What `kitbuild du`, `kitbuild prune` and the automatic GC do with a cache root: list records with
// their sizes (snapshots, cache mounts, blobs and partial downloads), and remove what no running
// build holds, safely against concurrent builds and crashes. The blobs of images kept in
// kitbuild's image store (control/image-store.ts) always stay.
import { statfsSync } from "node:fs";
import { CacheMounts } from "../cache/cache-mounts.ts";
import { type CacheRecord, keepBytesFor, planPrune, type SpacePolicy } from "../cache/gc.ts";
import { removeDangling } from "../cache/image-names.ts";
import { mergeInputs } from "../cache/merges.ts";
import { othersOpen } from "../cache/processes.ts";
import { MERGE_KIND } from "../snapshot/records.ts";
import { isProcessAlive } from "../util/process.ts";
import { type CacheFilter, type FilterableRecord, matchesSelectors, type RecordType } from "./cache-filter.ts";
import type { BuildEnvironment } from "./environment.ts";
import { storedImageBlobs } from "./image-store.ts";

export type UsageRecord = {
  id: string;
  kind: string;
  /** BuildKit's record type for the kind (what --filter type= and du --format json name). */
  type: RecordType;
  /** Being written by a running build (BuildKit's mutable records). */
  mutable: boolean;
  size: number;
  reclaimable: boolean;
  created: number;
  lastUsed: number;
  parent?: string;
  description?: string;
};

export type PruneRequest = {
  all: boolean;
  olderThanMs?: number;
  keepBytes?: number;
  /** Only snapshots of these kinds (and no blobs); undefined: every kind. */
  kinds?: readonly string[];
  /** Whether cache mounts (RUN --mount=type=cache) may go too (default: yes). */
  cacheMounts?: boolean;
  /** `--filter` id=/type=/description= selectors (until= is `olderThanMs`). */
  filter?: CacheFilter;
  /** `--reserved-space`/`--max-used-space`/`--min-free-space`: the cap is computed from the cache's total and the free space. */
  space?: SpacePolicy;
  /** Untagged images of kitbuild's image store go too, as docker's image prune (prune --all; never the GC). */
  danglingImages?: boolean;
};

/** The kind du shows for a cache mount's directory (buildx says exec.cachemount). */
export const CACHE_MOUNT_KIND = "exec.cachemount";
const CACHE_MOUNT_ID_PREFIX = "cachemount-";
/** The kind du shows for a partial download (a temp file in the content store's ingest area). */
export const INGEST_KIND = "ingest";
const GIT_KIND = "git";

/**
 * BuildKit's record type for a kitbuild kind. Blobs and partial downloads are BuildKit's content
 * store, not records; they are "internal" here because, like BuildKit's internal records, only
 * `prune --all` removes them. kitbuild has no source.local or frontend records (the context is read
 * in place; the Dockerfile frontend is built in).
 */
export function recordType(kind: string): RecordType {
  if (kind === CACHE_MOUNT_KIND) return "exec.cachemount";
  if (kind === GIT_KIND) return "source.git.checkout";
  if (kind === "blob" || kind === INGEST_KIND) return "internal";
  return "regular";
}

async function snapshotRecords(env: BuildEnvironment): Promise<CacheRecord[]> {
  const held = env.leases.held();
  const chained = new Set((env.index.db.query("SELECT snapshot FROM layer_snapshots").all() as Array<{ snapshot: number }>).map((r) => r.snapshot));
  const out: CacheRecord[] = [];
  for (const s of env.index.allSnapshots()) {
    let size = s.size;
    if (size === null && s.state === "committed") {
      size = await env.snapshotter.diskUsage(s.id);
      env.index.setSnapshotSize(s.id, size);
    }
    const held0 = held.has(s.id) || (s.state === "active" && s.owner_pid !== null && isProcessAlive(s.owner_pid));
    const record: CacheRecord = { id: s.id, parent: s.parent, kind: s.kind, state: s.state, size: size ?? 0, lastUsed: s.last_used, held: held0 };
    if (s.kind === MERGE_KIND) record.inputs = mergeInputs(env.index.db, s.id);
    if (s.kind !== "layer" && chained.has(s.id)) record.imageLayer = true;
    out.push(record);
  }
  return out;
}

/** Whether another live kitbuild process may use anything (then blobs and base layers are left alone). */
function othersBuilding(env: BuildEnvironment): boolean {
  if (othersOpen(env.index.db, isProcessAlive)) return true;
  const rows = env.index.db.query("SELECT DISTINCT pid FROM leases WHERE pid != ?").all(process.pid) as Array<{ pid: number }>;
  const active = env.index.allSnapshots().filter((s) => s.state === "active" && s.owner_pid !== process.pid);
  return rows.some((r) => isProcessAlive(r.pid)) || active.some((s) => s.owner_pid !== null && isProcessAlive(s.owner_pid));
}

function cacheMounts(env: BuildEnvironment): CacheMounts {
  return new CacheMounts(env.root, env.index.db, isProcessAlive);
}

async function cacheMountRecords(mounts: CacheMounts): Promise<UsageRecord[]> {
  const out: UsageRecord[] = [];
  for (const m of await mounts.list()) {
    out.push({ id: `${CACHE_MOUNT_ID_PREFIX}${m.id}`, kind: CACHE_MOUNT_KIND, type: "exec.cachemount", mutable: m.held, size: m.size, reclaimable: !m.held, created: m.created, lastUsed: m.lastUsed, description: `mount cache id ${m.key}` });
  }
  return out;
}

async function ingestRecords(env: BuildEnvironment): Promise<UsageRecord[]> {
  return (await env.store.ingestFiles()).map((f) => ({
    id: f.name, kind: INGEST_KIND, type: "internal", mutable: f.writerAlive, size: f.size, reclaimable: !f.writerAlive, created: f.mtime, lastUsed: f.mtime, description: "partial download",
  }));
}

/** The bytes the whole cache takes (what cacheUsage's records add up to), without what only the records need. */
export async function cacheTotal(env: BuildEnvironment): Promise<number> {
  let total = 0;
  for (const r of await snapshotRecords(env)) total += r.size;
  for (const m of await cacheMounts(env).list()) total += m.size;
  for (const b of await env.store.list()) total += b.size;
  for (const f of await env.store.ingestFiles()) total += f.size;
  return total;
}

export async function cacheUsage(env: BuildEnvironment): Promise<UsageRecord[]> {
  const descriptions = env.index.descriptions();
  const snapshots = await snapshotRecords(env);
  const created = new Map(env.index.allSnapshots().map((s) => [s.id, s.created]));
  const records: UsageRecord[] = snapshots.map((r) => ({
    id: String(r.id),
    kind: r.kind,
    type: recordType(r.kind),
    mutable: r.state !== "committed",
    size: r.size,
    reclaimable: !r.held && r.state === "committed",
    created: created.get(r.id) ?? r.lastUsed,
    lastUsed: r.lastUsed,
    ...(r.parent !== null ? { parent: String(r.parent) } : {}),
    ...(descriptions.has(r.id) ? { description: descriptions.get(r.id) } : {}),
  }));
  records.push(...(await cacheMountRecords(cacheMounts(env))));
  const busy = othersBuilding(env);
  // The blobs of kept images (kitbuild images) are not cache: only rmi lets them go.
  const kept = await storedImageBlobs(env);
  for (const b of await env.store.list()) {
    records.push({ id: b.digest, kind: "blob", type: "internal", mutable: false, size: b.size, reclaimable: !busy && !kept.has(b.digest), created: b.mtime, lastUsed: b.mtime });
  }
  records.push(...(await ingestRecords(env)));
  return records;
}

/** Removes what the request selects; returns what was removed. */
export async function pruneCache(env: BuildEnvironment, req: PruneRequest): Promise<UsageRecord[]> {
  const now = Date.now();
  const removed: UsageRecord[] = [];
  // Partial downloads of dead processes first: they hold nothing anyone can use.
  for (const f of await env.store.cleanIngest(24 * 3600 * 1000)) {
    removed.push({ id: f.name, kind: INGEST_KIND, type: "internal", mutable: false, size: f.size, reclaimable: true, created: now, lastUsed: now });
  }
  const records = await snapshotRecords(env);
  const mounts = cacheMounts(env);
  mounts.removeStrays();
  const mountRecords = req.cacheMounts === false ? [] : await cacheMountRecords(mounts);
  if (req.danglingImages && !req.kinds && !req.filter) removeDangling(env.index.db);
  const allBlobs = req.kinds ? [] : await env.store.list();
  // Blobs of kept images stay whatever is asked (rmi removes images, prune the cache).
  const kept = await storedImageBlobs(env);
  const blobs = allBlobs.filter((b) => !kept.has(b.digest));
  const blobsMayGo = req.all && !req.kinds && !othersBuilding(env);
  const total = { bytes: sum(records) + sum(mountRecords) + sum(allBlobs) };
  if (req.space) req = { ...req, keepBytes: keepBytesFor(req.space, total.bytes, freeBytes(env.root)) };
  // Snapshots are evicted until they fit beside the cache mounts and the blobs that must stay;
  // blobs that may go are removed after them, when the cache is still too large.
  const staying = blobsMayGo ? sum(allBlobs) - sum(blobs) : sum(allBlobs);
  const keepSnapshots = req.keepBytes === undefined ? undefined : req.keepBytes - sum(mountRecords) - staying;
  removed.push(...(await pruneSnapshots(env, records, { ...req, keepBytes: keepSnapshots }, total, now)));
  removed.push(...pruneCacheMounts(mounts, mountRecords, req, total, now));
  if (blobsMayGo) removed.push(...(await pruneBlobs(env, req, blobs, total.bytes, now)));
  return removed;
}

async function pruneSnapshots(env: BuildEnvironment, records: CacheRecord[], req: PruneRequest, total: { bytes: number }, now: number): Promise<UsageRecord[]> {
  // Records of other kinds, or that the filter does not select, count as held, so they (and what
  // they stand on) stay.
  const descriptions = env.index.descriptions();
  const describe = (r: CacheRecord) => (descriptions.has(r.id) ? { description: descriptions.get(r.id) as string } : {});
  const selected = (r: CacheRecord) =>
    (!req.kinds || req.kinds.includes(r.kind)) && selectedByFilter(req, { id: String(r.id), type: recordType(r.kind), lastUsed: r.lastUsed, ...describe(r) });
  const considered = req.kinds || req.filter ? records.map((r) => (selected(r) ? r : { ...r, held: true })) : records;
  const out: UsageRecord[] = [];
  for (const r of planPrune(considered, { ...req, now })) {
    if (!env.index.beginDelete(r.id, isProcessAlive)) continue;
    await env.snapshotter.remove(r.id);
    total.bytes -= r.size;
    out.push({ id: String(r.id), kind: r.kind, type: recordType(r.kind), mutable: false, size: r.size, reclaimable: true, created: r.lastUsed, lastUsed: r.lastUsed, ...(r.parent !== null ? { parent: String(r.parent) } : {}), ...describe(r) });
  }
  return out;
}

function selectedByFilter(req: PruneRequest, r: FilterableRecord): boolean {
  return req.filter === undefined || matchesSelectors(req.filter, r);
}

/** Free bytes for unprivileged users on the cache root's filesystem (BuildKit's disk stat: Bavail). */
function freeBytes(root: string): number {
  const st = statfsSync(root);
  return st.bavail * st.bsize;
}

/** Unheld cache mounts, least recently used first, while the cache is over `keepBytes`. */
function pruneCacheMounts(mounts: CacheMounts, records: UsageRecord[], req: PruneRequest, total: { bytes: number }, now: number): UsageRecord[] {
  const out: UsageRecord[] = [];
  for (const m of [...records].sort((a, b) => a.lastUsed - b.lastUsed)) {
    if (!m.reclaimable || (req.olderThanMs !== undefined && m.lastUsed >= now - req.olderThanMs) || !selectedByFilter(req, m)) continue;
    if (req.keepBytes !== undefined && total.bytes <= req.keepBytes) break;
    if (!mounts.remove(Number(m.id.slice(CACHE_MOUNT_ID_PREFIX.length)))) continue;
    total.bytes -= m.size;
    out.push(m);
  }
  return out;
}

function sum(items: ReadonlyArray<{ size: number }>): number {
  return items.reduce((s, r) => s + r.size, 0);
}

async function pruneBlobs(env: BuildEnvironment, req: PruneRequest, blobs: Array<{ digest: string; size: number; mtime: number }>, total: number, now: number): Promise<UsageRecord[]> {
  const out: UsageRecord[] = [];
  for (const b of [...blobs].sort((a, b) => a.mtime - b.mtime)) {
    if (req.olderThanMs !== undefined && b.mtime >= now - req.olderThanMs) continue;
    if (!selectedByFilter(req, { id: b.digest, type: "internal", lastUsed: b.mtime })) continue;
    if (req.keepBytes !== undefined && total <= req.keepBytes) break;
    await env.store.delete(b.digest as `sha256:${string}`);
    total -= b.size;
    out.push({ id: b.digest, kind: "blob", type: "internal", mutable: false, size: b.size, reclaimable: true, created: b.mtime, lastUsed: b.mtime });
  }
  return out;
}
