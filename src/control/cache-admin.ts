// What `kitbuild du` and `kitbuild prune` do with a cache root: list records with their sizes, and
// remove what no running build holds, safely against concurrent builds and crashes.
import { type CacheRecord, planPrune } from "../cache/gc.ts";
import { mergeInputs } from "../cache/merges.ts";
import { MERGE_KIND } from "../snapshot/records.ts";
import { isProcessAlive } from "../util/process.ts";
import type { BuildEnvironment } from "./environment.ts";

export type UsageRecord = {
  id: string;
  kind: string;
  size: number;
  reclaimable: boolean;
  created: number;
  lastUsed: number;
  parent?: string;
  description?: string;
};

export type PruneRequest = { all: boolean; olderThanMs?: number; keepBytes?: number };

async function snapshotRecords(env: BuildEnvironment): Promise<CacheRecord[]> {
  const held = env.leases.held();
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
    out.push(record);
  }
  return out;
}

/** Whether another live kitbuild process holds anything (then blobs are left alone). */
function othersBuilding(env: BuildEnvironment): boolean {
  const rows = env.index.db.query("SELECT DISTINCT pid FROM leases WHERE pid != ?").all(process.pid) as Array<{ pid: number }>;
  const active = env.index.allSnapshots().filter((s) => s.state === "active" && s.owner_pid !== process.pid);
  return rows.some((r) => isProcessAlive(r.pid)) || active.some((s) => s.owner_pid !== null && isProcessAlive(s.owner_pid));
}

export async function cacheUsage(env: BuildEnvironment): Promise<UsageRecord[]> {
  const descriptions = env.index.descriptions();
  const snapshots = await snapshotRecords(env);
  const created = new Map(env.index.allSnapshots().map((s) => [s.id, s.created]));
  const records: UsageRecord[] = snapshots.map((r) => ({
    id: String(r.id),
    kind: r.kind,
    size: r.size,
    reclaimable: !r.held && r.state === "committed",
    created: created.get(r.id) ?? r.lastUsed,
    lastUsed: r.lastUsed,
    ...(r.parent !== null ? { parent: String(r.parent) } : {}),
    ...(descriptions.has(r.id) ? { description: descriptions.get(r.id) } : {}),
  }));
  const busy = othersBuilding(env);
  for (const b of await env.store.list()) {
    records.push({ id: b.digest, kind: "blob", size: b.size, reclaimable: !busy, created: b.mtime, lastUsed: b.mtime });
  }
  return records;
}

/** Removes what the request selects; returns what was removed. */
export async function pruneCache(env: BuildEnvironment, req: PruneRequest): Promise<UsageRecord[]> {
  const now = Date.now();
  const records = await snapshotRecords(env);
  const plan = planPrune(records, { ...req, now });
  const removed: UsageRecord[] = [];
  for (const r of plan) {
    if (!env.index.beginDelete(r.id, isProcessAlive)) continue;
    await env.snapshotter.remove(r.id);
    removed.push({ id: String(r.id), kind: r.kind, size: r.size, reclaimable: true, created: r.lastUsed, lastUsed: r.lastUsed });
  }
  if (req.all && !othersBuilding(env)) removed.push(...(await pruneBlobs(env, req, records, removed, now)));
  return removed;
}

async function pruneBlobs(env: BuildEnvironment, req: PruneRequest, records: CacheRecord[], removed: UsageRecord[], now: number): Promise<UsageRecord[]> {
  const blobs = (await env.store.list()).sort((a, b) => a.mtime - b.mtime);
  let total = records.reduce((s, r) => s + r.size, 0) - removed.reduce((s, r) => s + r.size, 0) + blobs.reduce((s, b) => s + b.size, 0);
  const out: UsageRecord[] = [];
  for (const b of blobs) {
    if (req.olderThanMs !== undefined && b.mtime >= now - req.olderThanMs) continue;
    if (req.keepBytes !== undefined && total <= req.keepBytes) break;
    await env.store.delete(b.digest);
    total -= b.size;
    out.push({ id: b.digest, kind: "blob", size: b.size, reclaimable: true, created: b.mtime, lastUsed: b.mtime });
  }
  return out;
}
