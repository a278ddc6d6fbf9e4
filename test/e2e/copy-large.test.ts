// The compiled binary copies a 5,000-file tree and a 200 MB file (COPY . /data/ FROM scratch) and
// exports it; both snapshotters must give the same tree, equal to the context's. Needs root.
import { beforeAll, describe, expect, test } from "bun:test";
import { linkSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { writeNoiseFile } from "../../scripts/noise.ts";
import { IS_ROOT, NEEDS_ROOT, runKitbuild, skipBecause, tempDir, expectExit } from "../harness.ts";
import { describeTree } from "../tree.ts";

const skip = skipBecause(!IS_ROOT, `large COPY export: ${NEEDS_ROOT}`);

let ctx = "";
beforeAll(() => {
  if (skip) return;
  ctx = tempDir("kitbuild-large-ctx-");
  for (let d = 0; d < 50; d++) {
    mkdirSync(`${ctx}/tree/d${d}/sub`, { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(`${ctx}/tree/d${d}/${f % 2 ? "sub/" : ""}f${f}.txt`, `file ${d}/${f}\n`.repeat(f + 1), { mode: f % 3 ? 0o644 : 0o755 });
  }
  symlinkSync("d0/f0.txt", `${ctx}/tree/link`);
  linkSync(`${ctx}/tree/d1/f0.txt`, `${ctx}/tree/hardlink`);
  writeNoiseFile(`${ctx}/big.bin`, 200 << 20); // 200 MB that neither compress nor dedupe
  writeFileSync(`${ctx}/Dockerfile`, "FROM scratch\nCOPY . /data/\n");
});

describe.skipIf(skip)("a large COPY (compiled binary)", () => {
  test("5,000 files and a 200 MB file export identical trees on overlay and native", async () => {
    const trees: Record<string, string[]> = {};
    const works: string[] = [];
    try {
      for (const snapshotter of ["overlay", "native"]) {
        const work = tempDir(`kitbuild-large-${snapshotter}-`);
        works.push(work);
        const res = await runKitbuild(["build", "--progress=plain", "-o", `type=local,dest=${work}/out`, ctx], {
          env: { KITBUILD_ROOT: `${work}/root`, KITBUILD_SNAPSHOTTER: snapshotter },
          timeoutMs: 300_000,
        });
        expect(res.stderr).toContain("COPY . /data/");
        expectExit(res, 0);
        trees[snapshotter] = describeTree(`${work}/out/data`, { mtimes: true, owners: false });
      }
      const want = describeTree(ctx, { mtimes: true, owners: false });
      expect(want.length).toBeGreaterThan(5000);
      expect(trees.overlay).toEqual(want);
      expect(trees.native).toEqual(want);
    } finally {
      // Removed within this test's time, not left to the shared cleanup at the end of the run.
      for (const dir of [...works, ctx]) rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
