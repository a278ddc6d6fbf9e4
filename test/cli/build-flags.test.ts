// `kitbuild build` flags, parsed as docker buildx parses them.
import { describe, expect, test } from "bun:test";
import { parseBuildFlags } from "../../src/cli/build-flags.ts";
import { parseOutput } from "../../src/cli/output-flags.ts";

describe("parseBuildFlags", () => {
  test("long, short, inline and repeated flags", () => {
    const f = parseBuildFlags(
      ["-f", "ci.Dockerfile", "--build-arg", "A=1", "--build-arg=B=x=y", "--build-arg", "FROM_ENV", "--target=test", "-otype=local,dest=out", "--no-cache", "--progress", "plain", "."],
      { FROM_ENV: "env value" },
    );
    expect(f).toMatchObject({
      context: ".",
      file: "ci.Dockerfile",
      buildArgs: { A: "1", B: "x=y", FROM_ENV: "env value" },
      target: "test",
      outputs: [{ type: "local", dest: "out" }],
      noCache: true,
      progress: "plain",
    });
    expect(parseBuildFlags(["-q", "--no-cache=false", "dir"], {})).toMatchObject({ progress: "quiet", noCache: false, context: "dir" });
  });

  test("outputs: type=local, type=tar, and the shorthands", () => {
    expect(parseOutput("type=local,dest=out")).toEqual({ type: "local", dest: "out" });
    expect(parseOutput("type=tar,dest=-")).toEqual({ type: "tar", dest: "-" });
    expect(parseOutput("out")).toEqual({ type: "local", dest: "out" });
    expect(parseOutput("-")).toEqual({ type: "tar", dest: "-" });
    expect(() => parseOutput("type=local")).toThrow("has no dest");
    expect(() => parseOutput("type=bogus,dest=x.tar")).toThrow('unknown output type "bogus"');
  });

  test("usage errors have the E_USAGE code", () => {
    for (const argv of [[], ["a", "b"], ["--bogus", "."], ["--progress=fancy", "."], ["-f"]]) {
      let code: string | undefined;
      try {
        parseBuildFlags(argv, {});
      } catch (e) {
        code = (e as { code?: string }).code;
      }
      expect(code).toBe("E_USAGE");
    }
  });
});
