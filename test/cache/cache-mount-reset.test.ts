// CacheMounts.reset: what --no-cache does to cache mounts, as BuildKit's PruneCacheMounts (every
// directory of the id, seeded ones included, is no longer found; unused ones are removed at once,
// held ones when let go of and pruned).
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, writeFileSync } from "node:fs";
import { CacheMounts } from "../../src/cache/cache-mounts.ts";
import { tempDir } from "../harness.ts";

const signal = new AbortController().signal;

function store(): CacheMounts {
  const dir = tempDir("kitbuild-cachereset-");
  return new CacheMounts(dir, new Database(`${dir}/index.db`), () => true);
}

const seed = (key: string) => ({ key, fill: async (dir: string) => writeFileSync(`${dir}/seeded`, key) });

describe("cache mount reset", () => {
  test("plain and seeded directories of the id start over; other ids keep theirs", async () => {
    const s = store();
    const paths: Record<string, string> = {};
    for (const [name, req] of [
      ["plain", { id: "/var/cache/apt", sharing: "shared" as const }],
      ["seeded", { id: "/var/cache/apt", sharing: "shared" as const, seed: seed("12:/") }],
      ["other", { id: "/root/.npm", sharing: "shared" as const }],
      ["prefix", { id: "/var/cache/apt:x", sharing: "shared" as const }],
    ] as const) {
      await using lease = await s.acquire(req, signal);
      writeFileSync(`${lease.path}/data`, name);
      paths[name] = lease.path;
    }
    s.reset(["/var/cache/apt"]);
    expect(existsSync(paths.plain!)).toBe(false);
    expect(existsSync(paths.seeded!)).toBe(false);
    expect(existsSync(`${paths.other}/data`)).toBe(true);
    expect(existsSync(`${paths.prefix}/data`)).toBe(true);
    await using again = await s.acquire({ id: "/var/cache/apt", sharing: "shared" }, signal);
    expect(existsSync(`${again.path}/data`)).toBe(false);
    await using seededAgain = await s.acquire({ id: "/var/cache/apt", sharing: "shared", seed: seed("12:/") }, signal);
    expect(existsSync(`${seededAgain.path}/data`)).toBe(false);
    expect(existsSync(`${seededAgain.path}/seeded`)).toBe(true);
  });

  test("a directory another build holds is not removed under it, but nobody is given it again", async () => {
    const s = store();
    const held = await s.acquire({ id: "c", sharing: "shared" }, signal);
    writeFileSync(`${held.path}/data`, "in use");
    s.reset(["c"]);
    expect(existsSync(`${held.path}/data`)).toBe(true);
    await using fresh = await s.acquire({ id: "c", sharing: "shared" }, signal);
    expect(fresh.path).not.toBe(held.path);
    await held[Symbol.asyncDispose]();
    const listed = await s.list();
    expect(listed.find((m) => s.dir(m.id) === held.path)?.key).toMatch(/^\(reset \d+\) c$/);
  });
});
