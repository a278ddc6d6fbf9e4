// Several roots solved at once (a multi-platform build's graphs merged into one definition): the
// vertices the roots share run once, each root gets its own result, and identical roots share one.
import { describe, expect, test } from "bun:test";
import { marshal, node, output, type Output } from "../../src/llb/builder.ts";
import type { ExecOp } from "../../src/llb/ops.ts";
import { mergeDefinitions } from "../../src/control/platform-builds.ts";
import { Solver } from "../../src/solver/scheduler.ts";
import type { ResultStore, SolverResult } from "../../src/solver/vertex.ts";

type Fake = SolverResult & { value: string; released: number };

function step(cmd: string, inputs: Output[] = []): Output {
  const op: ExecOp = { kind: "exec", meta: { args: [cmd], env: [], cwd: "/", user: "" }, mounts: [], network: "host", security: "sandbox" };
  return output(node(op, inputs, { name: cmd }));
}

function solveAll(roots: Output[]) {
  const calls = new Map<string, number>();
  const made: Fake[] = [];
  const store: ResultStore<Fake> = { load: async () => undefined, save: async () => {} };
  const merged = mergeDefinitions(roots.map((r) => marshal(r)));
  const solver = new Solver<Fake>({
    definition: merged.definition,
    runnerFor: (v) => {
      const cmd = (v.vertex.op as ExecOp).meta.args[0] as string;
      return {
        cacheMap: async () => ({ digest: `op:${cmd}`, deps: [], cacheable: true }),
        exec: async (inputs) => {
          calls.set(cmd, (calls.get(cmd) ?? 0) + 1);
          const r: Fake = { value: `${cmd}(${inputs.map((i) => i.value).join(",")})`, released: 0, release: async () => void r.released++ };
          made.push(r);
          return [r];
        },
      };
    },
    store,
    maxParallelism: 4,
    noCache: false,
    progress: () => {},
    signal: new AbortController().signal,
  });
  return { calls, made, merged, results: solver.solveAll(merged.roots) };
}

describe("Solver.solveAll over merged definitions", () => {
  test("a vertex both graphs have runs once; each root keeps its result, the rest is released", async () => {
    const shared = () => step("builder", [step("base")]);
    const amd64 = step("target-amd64", [shared()]);
    const arm64 = step("target-arm64", [shared()]);
    const { calls, made, merged, results } = solveAll([amd64, arm64]);
    expect(merged.roots).toHaveLength(2);
    expect(merged.definition.vertices.filter((v) => (v.vertex.op as ExecOp).meta.args[0] === "builder")).toHaveLength(1);
    const [a, b] = await results;
    expect(a?.value).toBe("target-amd64(builder(base()))");
    expect(b?.value).toBe("target-arm64(builder(base()))");
    expect(Object.fromEntries(calls)).toEqual({ base: 1, builder: 1, "target-amd64": 1, "target-arm64": 1 });
    // The roots' results are the caller's; the intermediate ones were released.
    for (const r of made) expect(r.released).toBe(r === a || r === b ? 0 : 1);
  });

  test("identical graphs give one result object for both roots", async () => {
    const { calls, results } = solveAll([step("copy", [step("context")]), step("copy", [step("context")])]);
    const [a, b] = await results;
    expect(a).toBe(b as Fake);
    expect(a?.released).toBe(0);
    expect(calls.get("copy")).toBe(1);
  });
});
