// Content checksums select exactly what a COPY reads: a change to a file left out by --exclude, or
// not matched by --parents patterns, keeps the checksum (and so the cache); a change to a copied
// file changes it.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { checksumSources, type ChecksumOptions } from "../../src/file/checksum.ts";
import type { EntryDigest } from "../../src/file/source-tree.ts";
import { tempDir } from "../harness.ts";

const signal = new AbortController().signal;

describe("content checksums", () => {
  test("only selected files count", async () => {
    const ctx = tempDir("kitbuild-sum-");
    mkdirSync(`${ctx}/src/deep`, { recursive: true });
    mkdirSync(`${ctx}/docs`);
    writeFileSync(`${ctx}/src/main.ts`, "main");
    writeFileSync(`${ctx}/src/deep/util.ts`, "util");
    writeFileSync(`${ctx}/src/notes.md`, "notes");
    writeFileSync(`${ctx}/docs/readme.md`, "readme");
    const tree = { root: ctx, resetOwner: true };
    const sum = (opts: Partial<ChecksumOptions>) => checksumSources(tree, "/", { followSymlinks: true, allowWildcard: true, ...opts }, signal);
    const cases: Array<[Partial<ChecksumOptions>, string, boolean]> = [
      [{ excludePatterns: ["**/*.md"] }, "src/notes.md", false],
      [{ excludePatterns: ["**/*.md"] }, "src/main.ts", true],
      [{ includePatterns: ["src/**/*.ts"] }, "docs/readme.md", false],
      [{ includePatterns: ["src/**/*.ts"] }, "src/deep/util.ts", true],
      [{}, "docs/readme.md", true],
    ];
    for (const [opts, changed, counts] of cases) {
      const before = await sum(opts);
      writeFileSync(`${ctx}/${changed}`, `${changed} changed ${Math.random()}`);
      expect({ opts, changed, counts: (await sum(opts)) !== before }).toEqual({ opts, changed, counts });
    }
  });

  test("onRead is told the size of each file whose content was read, none that a memo vouched for", async () => {
    const ctx = tempDir("kitbuild-sum-");
    mkdirSync(`${ctx}/d`);
    writeFileSync(`${ctx}/d/kept`, "12345");
    writeFileSync(`${ctx}/d/read`, "1234567");
    writeFileSync(`${ctx}/top`, "123");
    const sizes: number[] = [];
    const vouched: EntryDigest = (host, st, compute) => (host.endsWith("/kept") ? "a".repeat(64) : compute(host, st));
    await checksumSources({ root: ctx, resetOwner: true, entryDigest: vouched, onRead: (n) => sizes.push(n) }, "/", { followSymlinks: false, allowWildcard: true }, signal);
    expect(sizes.sort((a, b) => a - b)).toEqual([3, 7]);
    sizes.length = 0;
    await checksumSources({ root: ctx, resetOwner: true, onRead: (n) => sizes.push(n) }, "/d", { followSymlinks: false, allowWildcard: true }, signal);
    expect(sizes.sort((a, b) => a - b)).toEqual([5, 7]);
  });

  test("the directories the walk stats through are closed after it, also when it is stopped part way", async () => {
    const ctx = tempDir("kitbuild-sum-");
    for (const d of ["a", "a/b", "a/b/c", "d"]) mkdirSync(`${ctx}/${d}`, { recursive: true });
    for (const f of ["a/1", "a/b/2", "a/b/c/3", "a/b/c/4", "d/5", "top"]) writeFileSync(`${ctx}/${f}`, f);
    const fds = () => readdirSync("/proc/self/fd").length;
    const before = fds();
    const seen: string[] = [];
    const whole = { root: ctx, resetOwner: true, onEntry: (rel: string) => void seen.push(rel) };
    await checksumSources(whole, "/", { followSymlinks: false, allowWildcard: true }, signal);
    expect(seen).toEqual(["a/1", "a/b/2", "a/b/c/3", "a/b/c/4", "d/5", "top"]);
    expect(fds()).toBe(before);
    const stop = new AbortController();
    let entries = 0;
    const stopped = { root: ctx, resetOwner: true, onEntry: () => void (++entries === 3 && stop.abort()) };
    await expect(checksumSources(stopped, "/", { followSymlinks: false, allowWildcard: true }, stop.signal)).rejects.toThrow();
    expect(entries).toBe(3);
    expect(fds()).toBe(before);
  });
});
