// Which cache records a prune removes: never what a running build holds (or anything under it),
// never a snapshot something else is stacked on, base image layers (and built snapshots serving as
// a kept image's layers) only with --all, and with --keep-storage the least recently used first.
// Pure planning; control/cache-admin.ts acts on it.

export type CacheRecord = {
  id: number;
  parent: number | null;
  kind: string;
  state: string;
  size: number;
  lastUsed: number;
  /** Held by a running build (leased, or being written). */
  held: boolean;
  /** For a merge (COPY --link): the snapshots it stacks, which it needs like parents. */
  inputs?: number[];
  /**
   * Recorded under a chain ID as an image's layer (a built snapshot of an image kept with -t): found
   * by image pulls without a lease first, so it goes only with --all, as base layers do.
   */
  imageLayer?: boolean;
};

/** What a record stands on: its parent and, for a merge, its inputs. */
function bases(r: CacheRecord): number[] {
  return [...(r.parent === null ? [] : [r.parent]), ...(r.inputs ?? [])];
}

export type PruneOptions = {
  all: boolean;
  /** Only records last used longer ago than this many milliseconds. */
  olderThanMs?: number;
  /** Keep the most recently used records up to this many bytes in total. */
  keepBytes?: number;
  now: number;
};

/** BuildKit's GC policy sizes (`--reserved-space`, `--max-used-space`, `--min-free-space`), in bytes; 0 or absent: unset. */
export type SpacePolicy = { reservedBytes?: number; maxUsedBytes?: number; minFreeBytes?: number };

/**
 * How many bytes of cache a prune keeps under `policy`, as BuildKit's calculateKeepBytes: up to
 * max-used-space, lowered until min-free-space is free, never below reserved-space; undefined when
 * nothing is set (no cap: everything eligible goes). With only min-free-space set and already that
 * much free, the whole cache is kept.
 */
export function keepBytesFor(policy: SpacePolicy, totalBytes: number, freeBytes: number): number | undefined {
  const maxUsed = policy.maxUsedBytes ?? 0;
  const minFree = policy.minFreeBytes ?? 0;
  const reserved = policy.reservedBytes ?? 0;
  if (maxUsed === 0 && minFree === 0 && reserved === 0) return undefined;
  let keep = maxUsed;
  const excess = minFree - freeBytes;
  if (excess > 0) keep = keep === 0 ? totalBytes - excess : Math.min(keep, totalBytes - excess);
  else if (minFree !== 0 && keep === 0) keep = totalBytes;
  return Math.max(keep, reserved, 0);
}

/** The records to remove, children before their parents. */
export function planPrune(records: readonly CacheRecord[], opts: PruneOptions): CacheRecord[] {
  const byId = new Map(records.map((r) => [r.id, r]));
  const protectedIds = new Set<number>();
  const protect = (id: number) => {
    if (protectedIds.has(id)) return;
    protectedIds.add(id);
    const r = byId.get(id);
    if (r) for (const b of bases(r)) protect(b);
  };
  for (const r of records) if (r.held || r.state !== "committed") protect(r.id);
  const eligible = records.filter(
    (r) =>
      r.state === "committed" && !protectedIds.has(r.id) && (opts.all || (r.kind !== "layer" && !r.imageLayer)) &&
      (opts.olderThanMs === undefined || r.lastUsed < opts.now - opts.olderThanMs),
  );
  let chosen = new Set(eligible.map((r) => r.id));
  if (opts.keepBytes !== undefined) chosen = keepNewest(records, eligible, opts.keepBytes);
  return leavesFirst(records, chosen);
}

/**
 * Evicts the least recently used eligible leaf (nothing stacked on it) again and again until the
 * whole cache fits in `keepBytes`; removing a leaf can make its parent a leaf in turn.
 */
function keepNewest(records: readonly CacheRecord[], eligible: CacheRecord[], keepBytes: number): Set<number> {
  let total = records.reduce((sum, r) => sum + r.size, 0);
  const remainingChildren = new Map<number, number>();
  for (const r of records) for (const b of bases(r)) remainingChildren.set(b, (remainingChildren.get(b) ?? 0) + 1);
  const candidates = new Set(eligible);
  const chosen = new Set<number>();
  while (total > keepBytes) {
    let pick: CacheRecord | undefined;
    for (const r of candidates) {
      if ((remainingChildren.get(r.id) ?? 0) === 0 && (!pick || r.lastUsed < pick.lastUsed)) pick = r;
    }
    if (!pick) break;
    candidates.delete(pick);
    chosen.add(pick.id);
    total -= pick.size;
    for (const b of bases(pick)) remainingChildren.set(b, (remainingChildren.get(b) ?? 1) - 1);
  }
  return chosen;
}

/** Orders removals so that no snapshot goes before something stacked on it; a snapshot with a
 * child that stays is kept too. */
function leavesFirst(records: readonly CacheRecord[], chosen: Set<number>): CacheRecord[] {
  const children = new Map<number, number[]>();
  for (const r of records) for (const b of bases(r)) children.set(b, [...(children.get(b) ?? []), r.id]);
  let changed = true;
  while (changed) {
    changed = false;
    for (const id of chosen) {
      if ((children.get(id) ?? []).some((c) => !chosen.has(c))) {
        chosen.delete(id);
        changed = true;
      }
    }
  }
  const out: CacheRecord[] = [];
  const done = new Set<number>();
  const visit = (id: number) => {
    if (done.has(id) || !chosen.has(id)) return;
    done.add(id);
    for (const c of children.get(id) ?? []) visit(c);
    out.push(records.find((r) => r.id === id) as CacheRecord);
  };
  for (const id of chosen) visit(id);
  return out;
}
