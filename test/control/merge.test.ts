// COPY --link as BuildKit's frontend builds it (a copy onto scratch, merged over the stage): the
// copied files are a layer of their own, independent of what lies below, so changing the stage
// below does not run the copy again. On both snapshotters. Needs root (snapshots).
import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import type { FileAction } from "../../src/llb/ops.ts";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir } from "../harness.ts";
import { copyAction, fileOp, solveGraph, source, vertex } from "./graph.ts";

const skip = skipBecause(!IS_ROOT, `COPY --link: ${NEEDS_ROOT}`);

const mkfile = (path: string, data: string): FileAction => ({ action: "mkfile", path, mode: 0o644, data });

for (const snapshotter of ["overlay", "native"]) {
  describe.skipIf(skip)(`COPY --link on ${snapshotter}`, () => {
    test("the copy is its own layer; a changed base reuses it", async () => {
      const kitRoot = tempDir();
      const ctx = tempDir("kitbuild-ctx-");
      mkdirSync(`${ctx}/app`);
      writeFileSync(`${ctx}/app/main.js`, "main");
      const graph = (baseText: string) => {
        const base = fileOp("base", undefined, [mkfile("/base.txt", baseText), mkfile("/app/old.js", "replaced below")]);
        const context = source("context", "local://context");
        const link = fileOp("COPY --link app /app/", undefined, [copyAction(0, "/app", "/app/")], context);
        return vertex("LINK COPY app /app/", { kind: "merge" }, [base, link]);
      };
      await solveGraph(graph("one"), { kitRoot, contextDir: ctx, snapshotter }, async (s) => {
        await using view = await s.view();
        expect(readdirSync(`${view.path}/app`).sort()).toEqual(["main.js", "old.js"]);
        expect(readFileSync(`${view.path}/base.txt`, "utf8")).toBe("one");
        const layers = s.layers();
        expect(layers.length).toBe(2);
        expect(await s.diffNames(layers[1] as number)).toEqual(["app/", "app/main.js"]);
      });
      await solveGraph(graph("two"), { kitRoot, contextDir: ctx, snapshotter }, async (s) => {
        // The context source always runs (it is read in place); the copy itself comes from the cache.
        expect(s.ran.sort()).toEqual(["LINK COPY app /app/", "base", "context"]);
        await using view = await s.view();
        expect(readFileSync(`${view.path}/base.txt`, "utf8")).toBe("two");
        expect(readFileSync(`${view.path}/app/main.js`, "utf8")).toBe("main");
      });
    });
  });
}
