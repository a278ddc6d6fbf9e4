// The disk-usage walker: allocated blocks, a hard-linked file once, and a directory whose contents
// were counted elsewhere taken at that count.
import { describe, expect, test } from "bun:test";
import { linkSync, lstatSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { diskUsage, diskUsageSync, UsageTally } from "../../src/util/disk-usage.ts";
import { tempDir } from "../harness.ts";

function tree(): string {
  const root = tempDir("kitbuild-du-");
  mkdirSync(`${root}/a/b`, { recursive: true });
  writeFileSync(`${root}/a/b/big`, Buffer.alloc(100_000, 1));
  writeFileSync(`${root}/a/small`, "s");
  linkSync(`${root}/a/b/big`, `${root}/a/hard`);
  symlinkSync("/nowhere", `${root}/a/link`);
  mkdirSync(`${root}/empty`);
  return root;
}

const blocks = (path: string) => lstatSync(path).blocks * 512;

describe("disk usage", () => {
  test("counts every entry's blocks below the root, a hard-linked file once", async () => {
    const root = tree();
    const want = ["a", "a/b", "a/b/big", "a/small", "a/link", "empty"].reduce((s, p) => s + blocks(`${root}/${p}`), 0);
    expect(await diskUsage(root)).toBe(want);
    expect(diskUsageSync(root)).toBe(want);
  });

  test("a directory counted elsewhere adds its own blocks and that count, without being walked", async () => {
    const root = tree();
    const inside = new UsageTally();
    for (const p of ["a/b", "a/b/big", "a/small", "a/hard", "a/link"]) inside.add(lstatSync(`${root}/${p}`), p === "a/b");
    expect(inside.bytes).toBe(["a/b", "a/b/big", "a/small", "a/link"].reduce((s, p) => s + blocks(`${root}/${p}`), 0));
    expect(diskUsageSync(root, { path: `${root}/a`, bytes: inside.bytes })).toBe(await diskUsage(root));
    expect(diskUsageSync(root, { path: `${root}/a`, bytes: 7 * 512 })).toBe(blocks(`${root}/a`) + 7 * 512 + blocks(`${root}/empty`));
  });
});
