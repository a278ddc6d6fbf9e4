// Which .dockerignore a build uses: "<Dockerfile>.dockerignore" beside the Dockerfile wins over
// the context's .dockerignore; and the file's encoding details.
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { readDockerignore } from "../../src/control/solve.ts";
import { LocalContext } from "../../src/source/local.ts";
import { parseDockerignore } from "../../src/frontend/dockerfile/dockerignore.ts";
import { tempDir } from "../harness.ts";

describe(".dockerignore", () => {
  test("a byte-order mark and CRLF line ends are ignored (matching is covered in test/util/patterns.test.ts)", () => {
    expect(parseDockerignore("\uFEFF# comment\r\n*.log\r\n./a/../b//c\r\n")).toEqual(["*.log", "b/c"]);
  });

  test("<Dockerfile name>.dockerignore beside the Dockerfile takes precedence", () => {
    const ctx = tempDir("kitbuild-ignore-");
    mkdirSync(`${ctx}/docker`);
    writeFileSync(`${ctx}/.dockerignore`, "from-context\n");
    writeFileSync(`${ctx}/docker/app.Dockerfile`, "FROM scratch\n");
    expect(readDockerignore(ctx, `${ctx}/docker/app.Dockerfile`)).toBe("from-context\n");
    writeFileSync(`${ctx}/docker/app.Dockerfile.dockerignore`, "specific\n");
    expect(readDockerignore(ctx, `${ctx}/docker/app.Dockerfile`)).toBe("specific\n");
    expect(readDockerignore(ctx, undefined)).toBe("from-context\n");
  });

  // moby/patternmatcher: the last pattern matching a path or one of its parents decides; fsutil's
  // walker then sends an excluded directory when something below it is re-included.
  test("chains of alternating exclude/include lines end as BuildKit's; excluded parents of re-included paths are kept", () => {
    const ctx = tempDir("kitbuild-ignore-");
    for (const f of ["dir/a/x/keep", "dir/a/x/other", "dir/a/y", "dir/b", "solo/z"]) {
      mkdirSync(`${ctx}/${f}`.replace(/\/[^/]*$/, ""), { recursive: true });
      writeFileSync(`${ctx}/${f}`, "");
    }
    const local = new LocalContext(ctx, parseDockerignore("dir\n!dir/a\ndir/a/x\n!dir/a/x/keep\nsolo\n"));
    const excluded = ["dir", "dir/a", "dir/a/x", "dir/a/x/keep", "dir/a/x/other", "dir/a/y", "dir/b", "solo", "solo/z"].filter((p) => local.isExcluded(p));
    expect(excluded).toEqual(["dir/a/x/other", "dir/b", "solo", "solo/z"]);
    // `**` with one file brought back: the directories leading to it are kept, the rest is not.
    const all = new LocalContext(ctx, parseDockerignore("**\n!dir/a/x/keep\n"));
    expect(["dir", "dir/a", "dir/a/x", "dir/a/x/keep", "dir/a/x/other", "dir/a/y", "dir/b", "solo"].filter((p) => !all.isExcluded(p))).toEqual(["dir", "dir/a", "dir/a/x", "dir/a/x/keep"]);
  });
});
