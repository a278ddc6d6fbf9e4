// The solver with fake ops that count their calls: cache hits skip work, identical vertices run
// once, independent vertices run in parallel within the limit, and a failure cancels the rest.
import { describe, expect, test } from "bun:test";
import { marshal, node, output, type Output } from "../../src/llb/builder.ts";
import type { ExecOp } from "../../src/llb/ops.ts";
import { Solver } from "../../src/solver/scheduler.ts";
import type { OpRunner, ResultStore, SolverResult } from "../../src/solver/vertex.ts";
import { KitError } from "../../src/util/errors.ts";
import type { ProgressEvent } from "../../src/util/progress.ts";
import { sleep } from "../../src/util/abort.ts";

type Fake = SolverResult & { value: string };

const fake = (value: string): Fake => ({ value, release: async () => {} });

/** A graph node whose op is an exec with `cmd` as its only argument. */
function step(cmd: string, inputs: Output[] = []): Output {
  const op: ExecOp = { kind: "exec", meta: { args: [cmd], env: [], cwd: "/", user: "" }, mounts: [], network: "host", security: "sandbox" };
  return output(node(op, inputs, { name: cmd }));
}

class Harness {
  calls = new Map<string, number>();
  running = 0;
  maxRunning = 0;
  events: ProgressEvent[] = [];
  stored = new Map<string, Fake[]>();
  /** For each vertex run: whether, as it started, another vertex had neither started nor finished. */
  othersPending = new Map<string, boolean>();
  /** The vertices told that they will run, in order. */
  willExec: string[] = [];

  store: ResultStore<Fake> = {
    load: async (key) => this.stored.get(key),
    save: async (key, _v, results) => void this.stored.set(key, results),
  };

  runner(cmd: string, behave: (signal: AbortSignal) => Promise<void>): OpRunner<Fake> {
    return {
      cacheMap: async () => ({ digest: `op:${cmd}`, deps: [], cacheable: true }),
      willExec: () => void this.willExec.push(cmd),
      exec: async (inputs, ctx) => {
        this.calls.set(cmd, (this.calls.get(cmd) ?? 0) + 1);
        this.othersPending.set(cmd, ctx.othersPending(() => true));
        this.running++;
        this.maxRunning = Math.max(this.maxRunning, this.running);
        try {
          await behave(ctx.signal);
          return [fake(`${cmd}(${inputs.map((i) => i.value).join(",")})`)];
        } finally {
          this.running--;
        }
      },
    };
  }

  solve(root: Output, behave: Record<string, (s: AbortSignal) => Promise<void>> = {}, extra: { maxParallelism?: number; noCache?: boolean; signal?: AbortSignal } = {}) {
    const definition = marshal(root);
    const solver = new Solver<Fake>({
      definition,
      runnerFor: (v) => {
        const cmd = (v.vertex.op as ExecOp).meta.args[0] as string;
        return this.runner(cmd, behave[cmd] ?? (async () => {}));
      },
      store: this.store,
      maxParallelism: extra.maxParallelism ?? 4,
      noCache: extra.noCache ?? false,
      progress: (e) => this.events.push(e),
      signal: extra.signal ?? new AbortController().signal,
    });
    return { solver, result: solver.solve() };
  }
}

describe("Solver", () => {
  test("runs each vertex once, inputs first, and reuses stored results next time", async () => {
    const h = new Harness();
    const base = step("base");
    const root = step("join", [step("left", [base]), step("right", [base])]);
    expect((await h.solve(root).result).value).toBe("join(left(base()),right(base()))");
    expect(Object.fromEntries(h.calls)).toEqual({ base: 1, left: 1, right: 1, join: 1 });
    const again = await h.solve(root).result;
    expect(again.value).toBe("join(left(base()),right(base()))");
    expect(Object.fromEntries(h.calls)).toEqual({ base: 1, left: 1, right: 1, join: 1 });
    const cachedNames = h.events.filter((e) => e.type === "vertex" && e.cached).map((e) => (e as { name: string }).name);
    expect(cachedNames).toContain("join");
  });

  test("a running vertex learns whether others may still run: not those done, cached or made unnecessary by a cache hit", async () => {
    const h = new Harness();
    await h.solve(step("c", [step("b", [step("a")])])).result;
    expect(Object.fromEntries(h.othersPending)).toEqual({ a: true, b: true, c: false });
    // Each is told it will run once its key has missed, before its inputs are ready.
    expect(h.willExec).toEqual(["c", "b", "a"]);
    // a and b are found in the cache (a only made unnecessary by b's hit): d runs alone.
    h.othersPending.clear();
    h.willExec = [];
    await h.solve(step("d", [step("b", [step("a")])])).result;
    expect(Object.fromEntries(h.othersPending)).toEqual({ d: false });
    expect(h.willExec).toEqual(["d"]);
    // Two independent branches, one at a time: each sees the join still to come, the join nothing.
    const branches = new Harness();
    await branches.solve(step("join", [step("x"), step("y")]), {}, { maxParallelism: 1 }).result;
    expect(Object.fromEntries(branches.othersPending)).toEqual({ x: true, y: true, join: false });
  });

  test("identical vertices in one graph run once", async () => {
    const h = new Harness();
    const root = step("join", [step("same"), step("same")]);
    expect(marshal(root).vertices).toHaveLength(2);
    await h.solve(root).result;
    expect(h.calls.get("same")).toBe(1);
  });

  test("independent vertices run in parallel, within --max-parallelism", async () => {
    const h = new Harness();
    const slow = async () => sleep(30, new AbortController().signal);
    const leaves = ["a", "b", "c", "d"].map((c) => step(c));
    await h.solve(step("root", leaves), { a: slow, b: slow, c: slow, d: slow }, { maxParallelism: 2 }).result;
    expect(h.maxRunning).toBe(2);
    const h4 = new Harness();
    await h4.solve(step("root", leaves), { a: slow, b: slow, c: slow, d: slow }, { maxParallelism: 4 }).result;
    expect(h4.maxRunning).toBe(4);
  });

  test("the first failure cancels every running vertex and is the error reported, with its step", async () => {
    const h = new Harness();
    let aborted = 0;
    const waitForAbort = async (signal: AbortSignal) => {
      await sleep(5000, signal).catch((e) => {
        aborted++;
        throw e;
      });
    };
    const fail = async () => {
      await sleep(20, new AbortController().signal);
      throw new KitError("E_RUN_FAILED", "boom");
    };
    const graph = step("root", [step("slow1"), step("slow2"), step("slow3"), step("bad")]);
    const { solver, result } = h.solve(graph, { slow1: waitForAbort, slow2: waitForAbort, slow3: waitForAbort, bad: fail });
    const err = await result.catch((e) => e);
    expect(err).toBeInstanceOf(KitError);
    expect(err.message).toBe("boom");
    expect(aborted).toBe(3);
    expect(h.calls.get("root")).toBeUndefined();
    const failed = h.events.find((e) => e.type === "vertex" && e.error === "boom");
    expect(failed && "id" in failed ? failed.id : undefined).toBe(solver.failedVertex);
    expect(h.events.some((e) => e.type === "vertex" && e.canceled)).toBe(true);
  });

  test("--no-cache runs everything again", async () => {
    const h = new Harness();
    const root = step("b", [step("a")]);
    await h.solve(root).result;
    await h.solve(root, {}, { noCache: true }).result;
    expect(Object.fromEntries(h.calls)).toEqual({ a: 2, b: 2 });
  });

  test("an abort from outside ends the solve with E_CANCELED", async () => {
    const h = new Harness();
    const ac = new AbortController();
    const { result } = h.solve(step("wait"), { wait: async (s) => sleep(5000, s) }, { signal: ac.signal });
    setTimeout(() => ac.abort(new KitError("E_CANCELED", "interrupted")), 20);
    const err = await result.catch((e) => e);
    expect(err.code).toBe("E_CANCELED");
  });
});
