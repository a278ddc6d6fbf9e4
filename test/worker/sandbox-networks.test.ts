// The networks of sandboxed steps with a stand-in maker (no pasta): one made ahead (of a step to
// come, or of one only expected) is handed to the next step, a failed one is made again for the
// step, an interrupted step gets none, teardowns run after the step and release() waits for them
// and releases the one never taken, and each network's own state directory is gone afterwards.
// Needs root (each network's directory is a tmpfs).
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import type { HelperTracker } from "../../src/worker/executor.ts";
import type { StepNetwork } from "../../src/worker/network/step-network.ts";
import { SandboxNetworks } from "../../src/worker/runc/sandbox-networks.ts";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir } from "../harness.ts";

const skip = skipBecause(!IS_ROOT, `sandbox networks: ${NEEDS_ROOT}`);
const helpers: HelperTracker = { started() {}, ended() {}, tempDir() {} };

/** A maker that writes a marker into each network's directory and records what happens to it. */
function fakeMaker(opts: { failFirst?: boolean; teardownMs?: number } = {}) {
  const log: string[] = [];
  let made = 0;
  const make = async (dir: string, _h: HelperTracker, signal: AbortSignal): Promise<StepNetwork> => {
    const n = ++made;
    await Bun.sleep(20);
    if (signal.aborted) throw new Error("aborted");
    if (opts.failFirst && n === 1) throw new Error("pasta failed");
    writeFileSync(`${dir}/netns`, String(n));
    log.push(`made ${n}`);
    return {
      mode: "sandbox", netnsPath: `${dir}/netns`,
      [Symbol.asyncDispose]: async () => {
        await Bun.sleep(opts.teardownMs ?? 0);
        log.push(`down ${n}`);
      },
    };
  };
  return { log, make, made: () => made };
}

function networks(maker: ReturnType<typeof fakeMaker>) {
  const root = tempDir();
  let n = 0;
  return { root, pool: new SandboxNetworks(root, () => `kitbuild-${process.pid}-${++n}`, maker.make) };
}

const dirs = (root: string) => (existsSync(`${root}/executor`) ? readdirSync(`${root}/executor`) : []);
const signal = () => new AbortController().signal;

describe.skipIf(skip)("sandbox networks", () => {
  test("the network made ahead goes to the next step; the last step makes none; release() waits for teardowns", async () => {
    const maker = fakeMaker({ teardownMs: 50 });
    const { root, pool } = networks(maker);
    const first = await pool.take(helpers, signal(), true);
    expect(maker.made()).toBe(2);
    await first[Symbol.asyncDispose]();
    // Disposing only started the teardown.
    expect(maker.log).not.toContain("down 1");
    const second = await pool.take(helpers, signal(), false);
    expect(maker.made()).toBe(2);
    expect(second.netnsPath).not.toBe(first.netnsPath);
    expect(maker.log).toContain("made 2");
    await second[Symbol.asyncDispose]();
    await pool.release();
    expect(maker.log.filter((l) => l.startsWith("down")).sort()).toEqual(["down 1", "down 2"]);
    expect(dirs(root)).toEqual([]);
  });

  test("a network made ahead of a step that is only expected goes to the first step that runs", async () => {
    const maker = fakeMaker();
    const { root, pool } = networks(maker);
    pool.makeAhead(helpers);
    pool.makeAhead(helpers);
    expect(maker.made()).toBe(1);
    const taken = await pool.take(helpers, signal(), false);
    expect(maker.made()).toBe(1);
    await taken[Symbol.asyncDispose]();
    await pool.release();
    expect(maker.log).toEqual(["made 1", "down 1"]);
    expect(dirs(root)).toEqual([]);
  });

  test("one made ahead and never taken is released; one that failed is made again for the step", async () => {
    const unused = fakeMaker();
    const a = networks(unused);
    await (await a.pool.take(helpers, signal(), true))[Symbol.asyncDispose]();
    await a.pool.release();
    expect(unused.log.sort()).toEqual(["down 1", "down 2", "made 1", "made 2"]);
    expect(dirs(a.root)).toEqual([]);

    const failing = fakeMaker({ failFirst: true });
    const b = networks(failing);
    // The first network made is the one ahead (it fails); the step's own, made next, is fine.
    const own = await b.pool.take(helpers, signal(), true);
    expect(failing.made()).toBe(2);
    const next = await b.pool.take(helpers, signal(), false);
    expect(failing.made()).toBe(3);
    expect(next.netnsPath).not.toBe(own.netnsPath);
    for (const n of [own, next]) await n[Symbol.asyncDispose]();
    await b.pool.release();
    expect(failing.log.sort()).toEqual(["down 2", "down 3", "made 2", "made 3"]);
    expect(dirs(b.root)).toEqual([]);
  });

  test("an interrupted step gets no network, and the one made ahead for it is released", async () => {
    const maker = fakeMaker();
    const { root, pool } = networks(maker);
    await (await pool.take(helpers, signal(), true))[Symbol.asyncDispose]();
    const step = new AbortController();
    const taking = pool.take(helpers, step.signal, false);
    step.abort(new Error("interrupted"));
    await expect(taking).rejects.toThrow("interrupted");
    await pool.release();
    expect(maker.log.filter((l) => l.startsWith("down")).sort()).toEqual(["down 1", "down 2"]);
    expect(dirs(root)).toEqual([]);
  });
});
