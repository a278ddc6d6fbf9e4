// CacheMounts.reset: what --no-cache does to cache mounts, as BuildKit's PruneCacheMounts (every
// directory of the id, seeded ones included, is no longer found; unused ones are removed at once,
// held ones when let go of and pruned).
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, writeFileSync } from "node:fs";
import { CacheMounts } from "../../src/cache/cache-mounts.ts";
import { cacheMountsToReset } from "../../src/control/ops/exec-mounts.ts";
import { marshal, node, output, type Output } from "../../src/llb/builder.ts";
import type { ExecMount, ExecOp } from "../../src/llb/ops.ts";
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

  // BuildKit's detectPrunedCacheID: the cache mounts of exec vertices whose metadata ignores the
  // cache (the dockerfile frontend marks every step under --no-cache, a stage's under
  // --no-cache-filter); a mount without an id is known by its target.
  test("which cache mounts a build resets: every step's under --no-cache, else those of steps that ignore the cache", () => {
    const cache = (dest: string, id = ""): ExecMount => ({ type: "cache", dest, input: -1, output: -1, readonly: false, cache: { id, sharing: "shared" } });
    const exec = (parent: Output | undefined, cwd: string, mounts: ExecMount[], ignoreCache: boolean) => {
      const op: ExecOp = {
        kind: "exec",
        meta: { args: ["true"], env: [], cwd, user: "" },
        mounts: [{ type: "bind", dest: "/", input: parent ? 0 : -1, output: 0, readonly: false }, ...mounts],
        network: "sandbox",
        security: "sandbox",
      };
      return output(node(op, parent ? [parent] : [], { name: "RUN", ...(ignoreCache ? { ignoreCache: true } : {}) }));
    };
    const first = exec(undefined, "/work", [cache("cache"), cache("/x", "named")], false);
    const def = marshal(exec(first, "/", [cache("/var/cache/apt")], true));
    expect([...cacheMountsToReset(def, false)]).toEqual(["/var/cache/apt"]);
    expect([...cacheMountsToReset(def, true)].sort()).toEqual(["/var/cache/apt", "/work/cache", "named"]);
  });
});
