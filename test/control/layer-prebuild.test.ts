// Layers made while the build runs (control/layer-prebuild.ts, exporter/layers.ts): which steps'
// results are the image's own layers, and that a layer made ahead is the one the export uses, the
// same blob an export makes on its own. Needs root (snapshots).
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { getLayerBlob } from "../../src/cache/layer-blobs.ts";
import { layerVertices } from "../../src/control/layer-prebuild.ts";
import { prebuildLayer, snapshotLayers } from "../../src/exporter/layers.ts";
import type { Definition, ExecOp, Vertex } from "../../src/llb/ops.ts";
import type { VertexProgress } from "../../src/util/progress.ts";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir } from "../harness.ts";
import { copyAction, fileOp, solveGraph, source } from "./graph.ts";

const skip = skipBecause(!IS_ROOT, `layer prebuild: ${NEEDS_ROOT}`);
const signal = new AbortController().signal;

/** A RUN on input 0 ("/", exported as output `rootOutput`) with a cache mount from input 1. */
function run(rootOutput: number): ExecOp {
  return {
    kind: "exec", network: "none", security: "sandbox",
    meta: { args: ["true"], env: [], cwd: "/" } as unknown as ExecOp["meta"],
    mounts: [
      { type: "bind", dest: "/", input: 0, output: rootOutput, readonly: false },
      { type: "bind", dest: "/src", input: 1, output: rootOutput === 0 ? 1 : 0, readonly: false },
    ],
  };
}

describe("layerVertices", () => {
  test("the chain of root filesystems down from each root, not the stages it copies from", () => {
    const v = (digest: string, vertex: Vertex) => ({ digest, vertex });
    const definition: Definition = {
      vertices: [
        v("image", { op: { kind: "source", identifier: "docker-image://base", attrs: {} }, inputs: [] }),
        v("builder", { op: run(0), inputs: [{ digest: "image", output: 0 }, { digest: "image", output: 0 }] }),
        v("workdir", { op: { kind: "file", base: 0, actions: [] }, inputs: [{ digest: "image", output: 0 }] }),
        v("copy", { op: { kind: "file", base: 0, actions: [] }, inputs: [{ digest: "workdir", output: 0 }, { digest: "builder", output: 0 }] }),
        v("run", { op: run(1), inputs: [{ digest: "copy", output: 0 }, { digest: "builder", output: 0 }] }),
        v("linked", { op: { kind: "merge" }, inputs: [{ digest: "run", output: 1 }] }),
      ],
      metadata: {},
      root: { digest: "run", output: 1 },
    };
    expect(layerVertices(definition, [{ digest: "run", output: 1 }])).toEqual(new Map([["run", 1], ["copy", 0], ["workdir", 0]]));
    // The RUN's other output is a mount, not its root filesystem; a merge is not followed.
    expect(layerVertices(definition, [{ digest: "run", output: 0 }]).size).toBe(0);
    expect(layerVertices(definition, [{ digest: "linked", output: 0 }]).size).toBe(0);
    // Two platforms' roots sharing a chain list it once.
    expect([...layerVertices(definition, [{ digest: "copy", output: 0 }, { digest: "workdir", output: 0 }]).keys()]).toEqual(["copy", "workdir"]);
  });
});

const quiet: VertexProgress = { status: () => {}, statusDone: () => {} } as unknown as VertexProgress;

describe.skipIf(skip)("prebuildLayer", () => {
  test("the export uses the layer made ahead: the blob an export makes on its own", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    mkdirSync(`${ctx}/app/sub`, { recursive: true });
    for (let i = 0; i < 50; i++) writeFileSync(`${ctx}/app/sub/f${i}`, `file ${i}\n`.repeat(i));
    const graph = () => fileOp("COPY app /app/", undefined, [copyAction(0, "/app", "/app/")], source("context", "local://context"));
    const variant = { compression: "gzip" as const };
    const exported = async (kitRoot: string, ahead: boolean) =>
      solveGraph(graph(), { kitRoot, contextDir: ctx }, async (s) => {
        const [id] = s.layers();
        const deps = { snapshotter: s.env.snapshotter, store: s.env.store, index: s.env.index, progress: quiet };
        if (ahead) {
          await prebuildLayer(deps, id as number, variant, signal);
          // Made and remembered before any export asked for it.
          expect(getLayerBlob(s.env.index.db, id as number, "gzip:default:-")).toBeDefined();
        }
        const { layers } = await snapshotLayers(deps, id as number).layers({ ...variant, force: false, ociMediaTypes: true, signal });
        return layers;
      });
    const made = await exported(tempDir(), true);
    const alone = await exported(tempDir(), false);
    expect(made.length).toBe(1);
    expect(String(made[0]?.descriptor.digest)).toBe(String(alone[0]?.descriptor.digest));
    expect(String(made[0]?.diffId)).toBe(String(alone[0]?.diffId));
  });
});
