// Choosing the snapshotter: overlay when it works here, a configured one forced (control/config.ts reads KITBUILD_SNAPSHOTTER), and a
// cache root that keeps the snapshotter it was first used with. Needs root (the overlay probe).
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { release } from "node:os";
import { CacheIndex } from "../../src/cache/index.ts";
import { hasVolatileOverlay, selectSnapshotter } from "../../src/snapshot/select.ts";
import { applyEntries } from "./impls.ts";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir } from "../harness.ts";

const skip = skipBecause(!IS_ROOT, `snapshotter selection: ${NEEDS_ROOT}`);

const select = (root: string, forced?: "overlay" | "native") => selectSnapshotter(root, new CacheIndex(`${root}/index.db`), forced);

test("overlay's volatile option is taken from Linux 5.10 on", () => {
  expect(["5.4.0-150-generic", "4.19.0", "5.9.16", "garbage", ""].map(hasVolatileOverlay)).toEqual([false, false, false, false, false]);
  expect(["5.10.0-28-amd64", "5.15.0", "6.1.0-13-amd64", "6.18.44-fc-v1147"].map(hasVolatileOverlay)).toEqual([true, true, true, true]);
});

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

  test("writable overlays are volatile where the kernel has it, and one active snapshot mounts twice", async () => {
    const root = tempDir();
    const s = await select(root);
    const base = await applyEntries(s, await applyEntries(s, null, root, [{ name: "a", type: "file", mode: 0o644, body: new TextEncoder().encode("a") }]), root, []);
    await using active = await s.prepare(base, "exec");
    for (const round of [1, 2]) {
      await using m = await active.mount();
      const line = readFileSync("/proc/self/mountinfo", "utf8").split("\n").find((l) => l.includes(` ${m.path} `)) ?? "";
      expect(line).toContain("upperdir=");
      expect(line.includes("volatile")).toBe(hasVolatileOverlay(release()));
      writeFileSync(`${m.path}/round${round}`, "x");
    }
    const id = await active.commit();
    await using view = await s.mountReadonly(id);
    expect([readFileSync(`${view.path}/a`, "utf8"), readFileSync(`${view.path}/round1`, "utf8"), readFileSync(`${view.path}/round2`, "utf8")]).toEqual(["a", "x", "x"]);
  });
});
