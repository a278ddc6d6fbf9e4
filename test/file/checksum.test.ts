// Content checksums select exactly what a COPY reads: a change to a file left out by --exclude, or
// not matched by --parents patterns, keeps the checksum (and so the cache); a change to a copied
// file changes it.
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { checksumSources, type ChecksumOptions } from "../../src/file/checksum.ts";
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
});
