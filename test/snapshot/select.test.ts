// Choosing the snapshotter: overlay when it works here, a configured one forced (control/config.ts reads KITBUILD_SNAPSHOTTER), and a
// cache root that keeps the snapshotter it was first used with. Needs root (the overlay probe).
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { CacheIndex } from "../../src/cache/index.ts";
import { selectSnapshotter } from "../../src/snapshot/select.ts";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir } from "../harness.ts";

const skip = skipBecause(!IS_ROOT, `snapshotter selection: ${NEEDS_ROOT}`);

const select = (root: string, forced?: "overlay" | "native") => selectSnapshotter(root, new CacheIndex(`${root}/index.db`), forced);

describe.skipIf(skip)("selectSnapshotter", () => {
  test("picks overlay where it mounts and records the choice in the cache root", async () => {
    const root = tempDir();
    expect((await select(root)).name).toBe("overlay");
    expect(readFileSync(`${root}/snapshotter`, "utf8").trim()).toBe("overlay");
    await expect(select(root, "native")).rejects.toMatchObject({ code: "E_SNAPSHOT_MISMATCH", hint: expect.stringContaining("KITBUILD_ROOT") });
  });

  test("a forced snapshotter sticks to its root", async () => {
    const root = tempDir();
    expect((await select(root, "native")).name).toBe("native");
    expect((await select(root)).name).toBe("native");
    await expect(select(root, "overlay")).rejects.toMatchObject({ code: "E_SNAPSHOT_MISMATCH" });
  });
});
