// .dockerignore files as moby reads them, and which one a build uses: "<Dockerfile>.dockerignore"
// beside the Dockerfile wins over the context's .dockerignore.
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { readDockerignore } from "../../src/control/solve.ts";
import { parseDockerignore } from "../../src/frontend/dockerfile/dockerignore.ts";
import { PatternMatcher } from "../../src/util/patterns.ts";
import { tempDir } from "../harness.ts";

describe(".dockerignore", () => {
  test("comments, blank lines, BOM, exceptions, a leading / and unclean paths", () => {
    const text = "\uFEFF# comment\n\n  *.log  \n!keep.log\n/build/\n./a/../b//c\n ! spaced\n#not a comment after all?\n";
    expect(parseDockerignore(text)).toEqual(["*.log", "!keep.log", "build", "b/c", "!spaced"]);
  });

  test("patterns match with moby's semantics: ** spans directories, the last match wins", () => {
    const m = new PatternMatcher(parseDockerignore("**/*.tmp\nnode_modules\n!node_modules/keep\n"));
    expect(m.matches("a/b/c.tmp")).toBe(true);
    expect(m.matches("x.tmp")).toBe(true);
    expect(m.matches("node_modules/pkg/index.js")).toBe(true);
    expect(m.matches("node_modules/keep")).toBe(false);
    expect(m.matches("src/main.go")).toBe(false);
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
});
