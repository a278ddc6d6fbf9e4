// The GC's order on a real cache root (in this process): source checkouts unused for 48 hours go
// before older build steps, then the least recently used; what a build holds stays. Needs root (the
// cache root's snapshotter probe mounts).
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { collectGarbage } from "../../src/control/auto-gc.ts";
import { cacheTotal, cacheUsage } from "../../src/control/cache-admin.ts";
import { readConfig } from "../../src/control/config.ts";
import { type BuildEnvironment, openEnvironment } from "../../src/control/environment.ts";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir } from "../harness.ts";

const skip = skipBecause(!IS_ROOT, `GC order tests: ${NEEDS_ROOT}`);
const MB = 1024 * 1024;
const HOUR = 3600 * 1000;

/** A committed snapshot of `kind` holding `bytes` of data, last used `ageMs` ago. */
async function snapshot(env: BuildEnvironment, kind: string, bytes: number, ageMs: number): Promise<number> {
  await using active = await env.snapshotter.prepare(null, kind);
  {
    await using mounted = await active.mount();
    writeFileSync(`${mounted.path}/data`, crypto.getRandomValues(new Uint8Array(bytes)));
  }
  const id = await active.commit();
  env.index.db.query("UPDATE snapshots SET last_used = ? WHERE id = ?").run(Date.now() - ageMs, id);
  return id;
}

describe.skipIf(skip)("the automatic GC", () => {
  test("a source checkout unused for 48 h goes before an older step; nothing when under the limit", async () => {
    const settings = { KITBUILD_ROOT: `${tempDir()}/root` };
    await using env = await openEnvironment({ config: readConfig(settings), env: settings, insecureRegistries: [] });
    const oldStep = await snapshot(env, "exec", 3 * MB, 96 * HOUR);
    const checkout = await snapshot(env, "git", 3 * MB, 72 * HOUR);
    const recent = await snapshot(env, "exec", 3 * MB, 0);
    expect(await collectGarbage(env, 100 * MB)).toBeUndefined();
    const outcome = await collectGarbage(env, 7 * MB);
    expect(outcome?.removed.map((r) => r.id)).toEqual([String(checkout)]);
    expect(outcome?.after).toBeLessThanOrEqual(7 * MB);
    const left = env.index.allSnapshots().map((s) => s.id);
    expect(left).toEqual([oldStep, recent]);
  });

  test("the size check after each build adds up what du lists, without making the records", async () => {
    const settings = { KITBUILD_ROOT: `${tempDir()}/root` };
    await using env = await openEnvironment({ config: readConfig(settings), env: settings, insecureRegistries: [] });
    await snapshot(env, "exec", 3 * MB, 0);
    await snapshot(env, "git", 2 * MB, HOUR);
    await env.store.writeBytes(crypto.getRandomValues(new Uint8Array(MB)));
    const listed = (await cacheUsage(env)).reduce((sum, r) => sum + r.size, 0);
    expect(listed).toBeGreaterThan(6 * MB);
    expect(await cacheTotal(env)).toBe(listed);
  });

  test("then the least recently used, never what a build holds", async () => {
    const settings = { KITBUILD_ROOT: `${tempDir()}/root` };
    await using env = await openEnvironment({ config: readConfig(settings), env: settings, insecureRegistries: [] });
    const held = await snapshot(env, "exec", 3 * MB, 200 * HOUR);
    const oldest = await snapshot(env, "exec", 3 * MB, 100 * HOUR);
    const newer = await snapshot(env, "file", 3 * MB, 1 * HOUR);
    env.leases.hold([held]);
    const outcome = await collectGarbage(env, 5 * MB);
    expect(outcome?.removed.map((r) => r.id)).toEqual([String(oldest), String(newer)]);
    expect(env.index.allSnapshots().map((s) => s.id)).toEqual([held]);
  });
});
