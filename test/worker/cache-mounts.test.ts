// Cache mounts: kept in the cache root across builds, separate per id, seeded from `from`/`source`
// (how the frontend sets uid/gid/mode), never in the layer; sharing=shared|private|locked within a
// process and, for locked, across two kitbuild processes. Needs root and runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { Database } from "bun:sqlite";
import { output } from "../../src/llb/builder.ts";
import type { CacheSharing } from "../../src/llb/ops.ts";
import { CacheMounts } from "../../src/cache/cache-mounts.ts";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT, NEEDS_ROOT_AND_RUNC, skipBecause, tempDir, testRegistry } from "../harness.ts";
import { image, roots as testRoots, run, scratchMkdir, solve } from "./graph.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `cache mount tests: ${NEEDS_ROOT_AND_RUNC}`);

let base = "";
beforeAll(async () => {
  if (!skip) base = `${await testRegistry()}/busybox:latest`;
});

const roots = () => testRoots("kitbuild-cache-");

const cacheAt = (dest: string, id: string, sharing: CacheSharing = "shared") =>
  ({ type: "cache", dest, input: -1, output: -1, readonly: false, cache: { id, sharing } }) as const;

describe.skipIf(skip)("cache mounts in builds", () => {
  test("kept across builds, separate per id, and never in the layer", async () => {
    const r = roots();
    const first = run(image(base), "echo one >> /c/log; echo other > /d/log", { mounts: [cacheAt("/c", "go-build"), cacheAt("/d", "other")] });
    expect((await solve(output(first), r)).error).toBeUndefined();
    const second = run(image(base), "echo two >> /c/log; cat /c/log > /seen", { mounts: [cacheAt("/c", "go-build")] });
    const res = await solve(output(second), { ...r, exportTo: r.out });
    expect(res.error).toBeUndefined();
    expect(readFileSync(`${r.out}/seen`, "utf8")).toBe("one\ntwo\n");
    expect(existsSync(`${r.out}/c`)).toBe(false);
    const fresh = run(image(base), "ls -A /c > /seen", { mounts: [cacheAt("/c", "a-new-id")] });
    const res2 = await solve(output(fresh), { ...r, exportTo: `${r.work}/out2` });
    expect(res2.error).toBeUndefined();
    expect(readFileSync(`${r.work}/out2/seen`, "utf8")).toBe("");
  });

  test("a new cache starts from `from` at `source`, with its owner and mode", async () => {
    const r = roots();
    // What the frontend emits for --mount=type=cache,uid=1000,gid=1000,mode=0700 (as BuildKit's).
    const seed = scratchMkdir("/cache", 0o700, 1000, 1000);
    const step = run(image(base), "stat -c '%u %g %a' /c > /seen; touch /c/f", {
      mounts: [{ ...cacheAt("/c", "owned"), input: 1, selector: "/cache" }],
      inputs: [seed],
    });
    const res = await solve(output(step), { ...r, exportTo: r.out });
    expect(res.error).toBeUndefined();
    expect(readFileSync(`${r.out}/seen`, "utf8")).toBe("1000 1000 700\n");
  });
});

describe.skipIf(skipBecause(!IS_ROOT, `cache mount store: ${NEEDS_ROOT}`))("the cache mount store", () => {
  const store = () => {
    const dir = tempDir("kitbuild-cachestore-");
    return new CacheMounts(dir, new Database(`${dir}/index.db`), () => true);
  };
  const signal = new AbortController().signal;

  test("shared users share one directory; private ones get their own", async () => {
    const s = store();
    await using a = await s.acquire({ id: "x", sharing: "shared" }, signal);
    await using b = await s.acquire({ id: "x", sharing: "shared" }, signal);
    expect(b.path).toBe(a.path);
    await using c = await s.acquire({ id: "x", sharing: "private" }, signal);
    expect(c.path).not.toBe(a.path);
    await using d = await s.acquire({ id: "x", sharing: "private" }, signal);
    expect(new Set([a.path, c.path, d.path]).size).toBe(3);
  });

  test("shared users that arrive while the directory is still being made wait for it and share it", async () => {
    const s = store();
    let fill: () => void = () => {};
    const filled = new Promise<void>((resolve) => (fill = resolve));
    const seed = { key: "k", fill: () => filled };
    const first = s.acquire({ id: "w", sharing: "shared", seed }, signal);
    let waited = false;
    const second = s.acquire({ id: "w", sharing: "shared", seed }, signal, () => (waited = true));
    while (!waited) await Bun.sleep(10);
    fill();
    await using a = await first;
    await using b = await second;
    expect(b.path).toBe(a.path);
  });

  test("locked waits for the holder, then gets the same directory", async () => {
    const s = store();
    const first = await s.acquire({ id: "y", sharing: "locked" }, signal);
    let waited = false;
    let second: { path: string } | undefined;
    const pending = s.acquire({ id: "y", sharing: "locked" }, signal, () => (waited = true)).then((l) => (second = l));
    while (!waited) await Bun.sleep(10);
    expect(second).toBeUndefined();
    await first[Symbol.asyncDispose]();
    await pending;
    expect(second?.path).toBe(first.path);
  });

  test("a holder whose process is gone does not block anyone", async () => {
    const dir = tempDir("kitbuild-cachestore-");
    const db = new Database(`${dir}/index.db`);
    const alive = new Set([process.pid]);
    const s = new CacheMounts(dir, db, (pid) => alive.has(pid));
    const held = await s.acquire({ id: "z", sharing: "locked" }, signal);
    db.query("UPDATE cache_mount_holders SET pid = 999999999").run();
    await using again = await s.acquire({ id: "z", sharing: "locked" }, signal);
    expect(again.path).toBe(held.path);
  });
});

describe.skipIf(skip)("cache mounts across two kitbuild processes", () => {
  const FIXTURE = `${import.meta.dir}/fixtures/cache-step.ts`;

  function start(r: ReturnType<typeof roots>, name: string, sharing: CacheSharing) {
    const child = spawn(process.execPath, [FIXTURE, r.root, r.runcRoot, base, name, sharing], { stdio: ["ignore", "pipe", "pipe"] });
    const state = { out: "", done: new Promise<number | null>((res) => child.on("close", (code) => res(code))) };
    child.stdout?.on("data", (d) => (state.out += d));
    child.stderr?.on("data", (d) => (state.out += d));
    return { child, state };
  }

  async function until(what: string, cond: () => boolean, children: ChildProcess[]): Promise<void> {
    for (let i = 0; i < 1200 && !cond(); i++) await Bun.sleep(50);
    if (!cond()) {
      for (const c of children) c.kill("SIGKILL");
      throw new Error(`gave up waiting for ${what}`);
    }
  }

  async function scenario(sharing: CacheSharing): Promise<{ log: string; bWaited: boolean }> {
    const r = roots();
    expect((await solve(image(base), r)).error).toBeUndefined(); // the base image, pulled once
    const cacheLog = () => {
      const dirs = existsSync(`${r.root}/cache-mounts`) ? readdirSync(`${r.root}/cache-mounts`) : [];
      return dirs.map((d) => (existsSync(`${r.root}/cache-mounts/${d}/log`) ? readFileSync(`${r.root}/cache-mounts/${d}/log`, "utf8") : "")).join("");
    };
    const letGo = (name: string) => {
      for (const d of readdirSync(`${r.root}/cache-mounts`)) writeFileSync(`${r.root}/cache-mounts/${d}/go-${name}`, "");
    };
    const a = start(r, "A", sharing);
    await until("A to start its step", () => cacheLog().includes("A start"), [a.child]);
    const b = start(r, "B", sharing);
    const bWaiting = () => b.state.out.includes("status waiting for the locked cache mount");
    await until("B to wait for the cache or to start", () => bWaiting() || cacheLog().includes("B start"), [a.child, b.child]);
    const bWaited = bWaiting() && !cacheLog().includes("B start");
    letGo("A");
    await until("B to start", () => cacheLog().includes("B start"), [a.child, b.child]);
    letGo("B");
    expect(await a.state.done).toBe(0);
    expect(await b.state.done).toBe(0);
    return { log: cacheLog(), bWaited };
  }

  test("locked: the second process waits until the first has finished with the cache", async () => {
    const { log, bWaited } = await scenario("locked");
    expect(bWaited).toBe(true);
    expect(log).toBe("A start\nA end\nB start\nB end\n");
  }, 120_000);

  test("shared: both processes use the cache at once (the same scenario, without the lock)", async () => {
    const { log, bWaited } = await scenario("shared");
    expect(bWaited).toBe(false);
    expect(log).toContain("B overlap\n");
  }, 120_000);
});
