// du/prune flags as buildx's: --filter parsing and matching, the GC policy sizes (BuildKit's
// calculateKeepBytes), --keep-storage as the deprecated --reserved-space, and buildx's JSON fields.
import { describe, expect, test } from "bun:test";
import { pruneRequest } from "../../src/cli/prune.ts";
import { humanDuration, humanSize, recordJson } from "../../src/cli/du-prune-flags.ts";
import { keepBytesFor } from "../../src/cache/gc.ts";
import { matchesFilter, parseCacheFilter } from "../../src/control/cache-filter.ts";
import type { UsageRecord } from "../../src/control/cache-admin.ts";

const usageError = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error("expected a usage error");
};

const record = (over: Partial<UsageRecord> = {}): UsageRecord => ({
  id: "7", kind: "exec", type: "regular", mutable: false, size: 1234, reclaimable: true, created: Date.UTC(2025, 5, 12, 15, 44, 2, 715), lastUsed: 0, ...over,
});

describe("--filter", () => {
  test("keys, operators and until select records as buildx's filters do", () => {
    const now = 10 * 3600_000;
    const old = record({ id: "12", type: "exec.cachemount", description: "mount cache id go-build", lastUsed: now - 3 * 3600_000 });
    const fresh = record({ id: "sha256:405a6f82baacffc3c9a8", type: "internal", lastUsed: now - 60_000 });
    const pick = (...f: string[]) => [old, fresh].filter((r) => matchesFilter(parseCacheFilter("du", f), r, now)).map((r) => r.id);
    expect(pick()).toEqual(["12", "sha256:405a6f82baacffc3c9a8"]);
    expect(pick("type=exec.cachemount")).toEqual(["12"]);
    expect(pick("type!=exec.cachemount")).toEqual(["sha256:405a6f82baacffc3c9a8"]);
    expect(pick("until=1h")).toEqual(["12"]);
    expect(pick("unused-for=1h")).toEqual(["12"]);
    expect(pick("id=405a6f82baac")).toEqual(["sha256:405a6f82baacffc3c9a8"]);
    expect(pick("id=1")).toEqual([]); // ids match whole, not as a prefix of "12"
    expect(pick("description~=go-.*")).toEqual(["12"]);
    expect(pick("type=exec.cachemount", "until=4h")).toEqual([]); // ANDed
  });

  test("unknown keys and types, a missing '=', repeated keys and bad durations are usage errors", () => {
    for (const f of [["type=bogus"], ["color=red"], ["inuse=true"], ["until"], ["until=soon"], ["type=regular", "type=internal"], ["until=1h", "unused-for=2h"], ["description~=("]]) {
      expect(usageError(() => parseCacheFilter("prune", f)).code).toBe("E_USAGE");
    }
    expect(usageError(() => parseCacheFilter("prune", ["type=bogus"])).message).toBe('unknown record type "bogus" in --filter');
  });
});

describe("prune sizes", () => {
  test("keepBytesFor follows BuildKit's calculateKeepBytes", () => {
    expect(keepBytesFor({}, 100, 50)).toBeUndefined();
    expect(keepBytesFor({ reservedBytes: 30 }, 100, 50)).toBe(30);
    expect(keepBytesFor({ maxUsedBytes: 60 }, 100, 50)).toBe(60);
    expect(keepBytesFor({ maxUsedBytes: 60, reservedBytes: 80 }, 100, 50)).toBe(80);
    // 70 free wanted, 50 free: 20 bytes of cache must go.
    expect(keepBytesFor({ minFreeBytes: 70 }, 100, 50)).toBe(80);
    expect(keepBytesFor({ minFreeBytes: 70, maxUsedBytes: 90 }, 100, 50)).toBe(80);
    expect(keepBytesFor({ minFreeBytes: 70, maxUsedBytes: 40 }, 100, 50)).toBe(40);
    // Enough free already: only min-free-space set keeps everything.
    expect(keepBytesFor({ minFreeBytes: 40 }, 100, 50)).toBe(100);
    expect(keepBytesFor({ minFreeBytes: 500 }, 100, 50)).toBe(0);
  });

  test("--keep-storage is --reserved-space; both together, or a bad size, is a usage error", () => {
    expect(pruneRequest(false, [], { "keep-storage": "1GB" }).space?.reservedBytes).toBe(1024 ** 3);
    expect(pruneRequest(false, [], { "reserved-space": "512mb" }).space?.reservedBytes).toBe(512 * 1024 ** 2);
    expect(pruneRequest(false, [], { "max-used-space": "2gb", "min-free-space": "10GB" }).space).toEqual({ reservedBytes: undefined, maxUsedBytes: 2 * 1024 ** 3, minFreeBytes: 10 * 1024 ** 3 });
    expect(pruneRequest(false, [], {}).space).toBeUndefined();
    expect(usageError(() => pruneRequest(false, [], { "keep-storage": "1GB", "reserved-space": "1GB" })).code).toBe("E_USAGE");
    expect(usageError(() => pruneRequest(false, [], { "max-used-space": "lots" })).message).toBe('invalid argument "lots" for "--max-used-space" flag');
    expect(pruneRequest(false, ["until=24h", "type=regular"], {})).toMatchObject({ olderThanMs: 24 * 3600_000, filter: { selectors: [{ key: "type", op: "=", value: "regular" }] } });
  });
});

describe("du --format json", () => {
  test("buildx's fields, sizes and ages as go-units prints them", () => {
    const now = Date.UTC(2025, 7, 12);
    const line = JSON.parse(recordJson(record({ parent: "3", description: "RUN a && b", lastUsed: now - 2 * 3600_000 }), now));
    expect(Object.keys(line)).toEqual(["CreatedAt", "Description", "ID", "LastUsedAt", "Mutable", "Parents", "Reclaimable", "Shared", "Size", "Type", "UsageCount"]);
    expect(line).toMatchObject({ CreatedAt: "2025-06-12 15:44:02.715 +0000 UTC", ID: "7", LastUsedAt: "2 hours ago", Parents: ["3"], Size: "1.234kB", Type: "regular" });
    expect(recordJson(record({ description: "a && b" }))).toContain("a \\u0026\\u0026 b");
    expect(humanSize(829889526)).toBe("829.9MB");
    expect(humanSize(12)).toBe("12B");
    expect(humanDuration(61 * 24 * 3600_000)).toBe("2 months");
    expect(humanDuration(90_000)).toBe("About a minute");
  });
});
