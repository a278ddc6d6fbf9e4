// The remote cache's seam in the result store: a key the local index misses is asked of the
// importers; a result one brings in is recorded locally (the next look-up does not ask again), and
// an importer that finds its data unusable leaves a miss. Needs root (snapshots).
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import type { CacheImporter } from "../../src/cache/remote-cache.ts";
import { CacheExplainer } from "../../src/control/cache-explain.ts";
import { readConfig } from "../../src/control/config.ts";
import { openEnvironment } from "../../src/control/environment.ts";
import { indexResultStore } from "../../src/control/result-store.ts";
import type { SolverVertex } from "../../src/solver/vertex.ts";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir } from "../harness.ts";

const skip = skipBecause(!IS_ROOT, `remote cache seam: ${NEEDS_ROOT}`);

describe.skipIf(skip)("result store with a cache importer", () => {
  test("a local miss is imported once and then found locally; unusable data is a miss", async () => {
    const config = readConfig({ KITBUILD_ROOT: tempDir(), KITBUILD_SNAPSHOTTER: "native" });
    await using env = await openEnvironment({ config, env: {}, insecureRegistries: [] });
    const asked: string[] = [];
    const importer: CacheImporter = {
      name: "fake remote",
      has: async (key) => {
        asked.push(key);
        return key !== "absent";
      },
      materialize: async (key) => {
        if (key === "corrupt") return undefined;
        const active = await env.snapshotter.prepare(null, "import");
        {
          await using view = await active.mount();
          writeFileSync(`${view.path}/imported`, key);
        }
        return [await active.commit()];
      },
    };
    const explainer = new CacheExplainer(env.index, env.store, "/nonexistent", () => "");
    const store = indexResultStore(env.index, env.claims, env.leases, explainer, [importer]);
    const v: SolverVertex = { digest: "sha256:0", vertex: { op: { kind: "merge" }, inputs: [] }, meta: { name: "step" } };
    const signal = new AbortController().signal;

    const hit = await store.load("present", v, signal);
    const ref = hit?.[0];
    if (ref?.kind !== "snapshot") throw new Error(`expected a snapshot, got ${ref?.kind}`);
    await using view = await env.snapshotter.mountReadonly(ref.id);
    expect(readFileSync(`${view.path}/imported`, "utf8")).toBe("present");
    expect(env.index.results("present")).toEqual([{ output: 0, snapshot: ref.id }]);

    asked.length = 0;
    expect((await store.load("present", v, signal))?.[0]).toMatchObject({ kind: "snapshot", id: ref.id });
    expect(asked).toEqual([]);

    expect(await store.load("absent", v, signal)).toBeUndefined();
    expect(await store.load("corrupt", v, signal)).toBeUndefined();
    expect(env.index.results("corrupt")).toEqual([]);
  });
});
