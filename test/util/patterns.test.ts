// .dockerignore matching with moby's semantics.
import { describe, expect, test } from "bun:test";
import { parseDockerignore } from "../../src/frontend/dockerfile/dockerignore.ts";
import { PatternMatcher } from "../../src/util/patterns.ts";

const matcher = (text: string) => new PatternMatcher(parseDockerignore(text));

describe("dockerignore patterns", () => {
  test("a pattern matches the path and everything under a matched directory", () => {
    const m = matcher("node_modules\n*.log\n");
    expect(m.matches("node_modules")).toBe(true);
    expect(m.matches("node_modules/x/y.js")).toBe(true);
    expect(m.matches("app.log")).toBe(true);
    expect(m.matches("src/app.log")).toBe(false);
    expect(m.matches("src/main.ts")).toBe(false);
  });

  test("** spans directories, ! re-includes, and the last match wins", () => {
    const m = matcher("**/*.md\n!README.md\ndocs\n!docs/keep.md\n");
    expect(m.matches("a/b/c.md")).toBe(true);
    expect(m.matches("README.md")).toBe(false);
    expect(m.matches("docs/x.txt")).toBe(true);
    expect(m.matches("docs/keep.md")).toBe(false);
    expect(m.mayReinclude("docs")).toBe(true);
    expect(m.mayReinclude("other")).toBe(false);
  });

  test("comments, blank lines, leading slashes and unclean paths", () => {
    expect(parseDockerignore("# comment\n\n/a/./b/\n  !  /c  \n")).toEqual(["a/b", "!c"]);
    const m = matcher("/tmp/../build\n?.txt\n[ab].js\n");
    expect(m.matches("build/out")).toBe(true);
    expect(m.matches("x.txt")).toBe(true);
    expect(m.matches("xy.txt")).toBe(false);
    expect(m.matches("a.js")).toBe(true);
    expect(m.matches("c.js")).toBe(false);
  });
});
