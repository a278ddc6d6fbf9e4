// Prune planning: held records and what they stand on stay, layers only with --all, oldest first
// under --keep-storage, and never a snapshot something remaining is stacked on.
import { describe, expect, test } from "bun:test";
import { type CacheRecord, planPrune } from "../../src/cache/gc.ts";

const rec = (id: number, parent: number | null, kind: string, lastUsed: number, extra: Partial<CacheRecord> = {}): CacheRecord => ({
  id, parent, kind, state: "committed", size: 100, lastUsed, held: false, ...extra,
});

// 1 (layer) ← 2 (exec) ← 3 (file) ; 1 ← 4 (exec, held) ; 5 (layer) alone
const records = [rec(1, null, "layer", 10), rec(2, 1, "exec", 20), rec(3, 2, "file", 30), rec(4, 1, "exec", 40, { held: true }), rec(5, null, "layer", 5)];
/** The ids in removal order; every child must come before its parent. */
const ids = (rs: CacheRecord[]) => {
  const order = rs.map((r) => r.id);
  for (const r of rs) if (r.parent !== null && order.includes(r.parent)) expect(order.indexOf(r.id)).toBeLessThan(order.indexOf(r.parent));
  return [...order].sort();
};

describe("planPrune", () => {
  test("keeps held records and their ancestors; layers only with --all; children first", () => {
    expect(ids(planPrune(records, { all: false, now: 100 }))).toEqual([2, 3]);
    expect(ids(planPrune(records, { all: true, now: 100 }))).toEqual([2, 3, 5]);
  });

  test("a built snapshot serving as a kept image's layer goes only with --all, as base layers", () => {
    const withImage = records.map((r) => (r.id === 3 ? { ...r, imageLayer: true } : r));
    expect(ids(planPrune(withImage, { all: false, now: 100 }))).toEqual([]);
    expect(ids(planPrune(withImage, { all: true, now: 100 }))).toEqual([2, 3, 5]);
  });

  test("--filter until keeps what was used recently", () => {
    expect(ids(planPrune(records, { all: true, olderThanMs: 75, now: 100 }))).toEqual([5]);
  });

  test("--keep-storage removes the least recently used until the cache fits", () => {
    // 500 bytes in all. The oldest leaf goes first (5), then 3 (2 is not a leaf while 3 stays).
    expect(ids(planPrune(records, { all: true, keepBytes: 400, now: 100 }))).toEqual([5]);
    expect(ids(planPrune(records, { all: true, keepBytes: 300, now: 100 }))).toEqual([3, 5]);
    expect(ids(planPrune(records, { all: true, keepBytes: 200, now: 100 }))).toEqual([2, 3, 5]);
    // 1 and 4 are held (4 directly, 1 under it): the cache cannot shrink below them.
    expect(ids(planPrune(records, { all: true, keepBytes: 0, now: 100 }))).toEqual([2, 3, 5]);
  });

  test("a merge needs its inputs like parents: they go after it, and a held merge keeps them", () => {
    // 6 and 7 are COPY --link layers on scratch; 8 is a merge of 2 (under 3) and 7.
    const withMerge = [...records, rec(6, null, "file", 1), rec(7, null, "file", 2), rec(8, null, "merge", 3, { inputs: [2, 7] })];
    const plan = planPrune(withMerge, { all: false, now: 100 });
    const order = plan.map((r) => r.id);
    expect(order.indexOf(8)).toBeLessThan(order.indexOf(7));
    expect(order.indexOf(8)).toBeLessThan(order.indexOf(2));
    const held = withMerge.map((r) => (r.id === 8 ? { ...r, held: true } : r));
    const kept = ids(planPrune(held, { all: false, now: 100 }));
    expect(kept).not.toContain(7);
    expect(kept).not.toContain(2);
    expect(kept).toContain(6);
  });

  test("an active snapshot protects the chain under it", () => {
    const withActive = [...records, rec(6, 3, "exec", 50, { state: "active" })];
    expect(ids(planPrune(withActive, { all: true, now: 100 }))).toEqual([5]);
  });
});
