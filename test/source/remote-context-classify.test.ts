// How the build's positional argument is told apart, as buildx does with moby's urlutil: stdin,
// an existing directory first, then git addresses, then other http(s) URLs; and how addresses are
// shown without credentials.
import { describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { classifyContext, describeContext } from "../../src/source/remote-context.ts";
import { withoutCredentials } from "../../src/util/urls.ts";
import { tempDir } from "../harness.ts";

describe("classifyContext", () => {
  test("each form of PATH | URL | -", () => {
    const cases: Array<[string, string]> = [
      ["-", "stdin"],
      [".", "local"],
      ["no/such/dir", "local"],
      ["https://example.com/org/repo.git", "git"],
      ["https://example.com/org/repo.git#main:sub", "git"],
      ["https://example.com/org/repo.git?ref=v1&subdir=x", "git"],
      ["http://example.com/repo.git", "git"],
      ["git://example.com/repo", "git"],
      ["git@github.com:org/repo.git", "git"],
      ["ssh://git@example.com:2222/repo.git", "git"],
      ["github.com/org/repo", "git"],
      ["https://example.com/ctx.tar.gz", "url"],
      ["https://example.com/Dockerfile", "url"],
      ["https://example.com/repo.git.tar", "url"],
    ];
    expect(cases.map(([arg]) => [arg, classifyContext(arg).kind])).toEqual(cases);
  });

  test("an existing directory wins over the URL-like reading of its name (buildx: isLocalDir first)", () => {
    const dir = tempDir();
    mkdirSync(`${dir}/github.com/org/repo`, { recursive: true });
    const prev = process.cwd();
    process.chdir(dir);
    try {
      expect(classifyContext("github.com/org/repo")).toEqual({ kind: "local", dir: "github.com/org/repo" });
    } finally {
      process.chdir(prev);
    }
  });

  test("addresses are shown without user:password", () => {
    expect(withoutCredentials("https://alice:s3cret@example.com/ctx.tar.gz")).toBe("https://example.com/ctx.tar.gz");
    expect(withoutCredentials("https://token@example.com/x")).toBe("https://example.com/x");
    expect(withoutCredentials("https://example.com/a@b")).toBe("https://example.com/a@b");
    expect(describeContext(classifyContext("https://alice:s3cret@example.com/repo.git#main"))).toBe("https://example.com/repo.git#main");
  });
});
