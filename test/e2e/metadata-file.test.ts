// --metadata-file's buildx keys through the compiled binary: `buildx.build.ref` for every build (also
// one without an image output), `buildx.build.warnings` (the build checks' findings as BuildKit's
// VertexWarning JSON) when BUILDX_METADATA_WARNINGS is true, as buildx; and the same warnings in
// `--progress=rawjson` and plain progress. Needs root and runc.
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { expectExit, HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `--metadata-file tests: ${NEEDS_ROOT_AND_RUNC}`);

/** A context whose Dockerfile breaks one build check on line 1 (FromAsCasing). */
async function lintedContext(): Promise<{ ctx: string; dockerfile: string }> {
  const registry = await testRegistry();
  const ctx = tempDir("kitbuild-ctx-");
  const dockerfile = `FROM ${registry}/busybox as base\nCOPY hello.txt /hello.txt\n`;
  writeFileSync(`${ctx}/Dockerfile`, dockerfile);
  writeFileSync(`${ctx}/hello.txt`, "hello\n");
  return { ctx, dockerfile };
}

const b64 = (s: string) => Buffer.from(s, "base64").toString();
type Warning = { vertex: string; level: number; short: string; detail?: string[]; url?: string; sourceInfo?: { filename: string; data: string; language: string }; range?: { start: { line: number }; end: { line: number } }[] };

describe.skipIf(skip)("--metadata-file (compiled binary)", () => {
  test("a build without an image output writes buildx.build.ref, a new one each build", async () => {
    const { ctx } = await lintedContext();
    const work = tempDir();
    const refs: string[] = [];
    for (const i of [1, 2]) {
      const res = await runKitbuild(["build", "--progress=plain", "-o", `type=local,dest=${work}/out`, "--metadata-file", `${work}/meta${i}.json`, ctx], { env: { KITBUILD_ROOT: `${work}/root` }, timeoutMs: 300_000 });
      expectExit(res, 0);
      const meta = JSON.parse(readFileSync(`${work}/meta${i}.json`, "utf8")) as Record<string, unknown>;
      expect(meta["buildx.build.ref"]).toMatch(/^kitbuild\/kitbuild\/[0-9a-z]{25}$/);
      expect(meta["containerimage.digest"]).toBeUndefined();
      // buildx leaves warnings out unless BUILDX_METADATA_WARNINGS is true.
      expect(meta["buildx.build.warnings"]).toBeUndefined();
      refs.push(meta["buildx.build.ref"] as string);
    }
    expect(refs[0]).not.toBe(refs[1]);
  }, 600_000);

  test("BUILDX_METADATA_WARNINGS=1 writes the build checks' warnings as VertexWarning JSON", async () => {
    const { ctx, dockerfile } = await lintedContext();
    const work = tempDir();
    const res = await runKitbuild(["build", "--progress=plain", "-o", `type=oci,dest=${work}/oci.tar`, "--metadata-file", `${work}/meta.json`, ctx], {
      env: { KITBUILD_ROOT: `${work}/root`, BUILDX_METADATA_WARNINGS: "1" },
      timeoutMs: 300_000,
    });
    expectExit(res, 0);
    const meta = JSON.parse(readFileSync(`${work}/meta.json`, "utf8")) as Record<string, unknown>;
    expect(meta["containerimage.digest"]).toMatch(/^sha256:/);
    const warnings = meta["buildx.build.warnings"] as Warning[];
    expect(warnings).toHaveLength(1);
    const w = warnings[0] as Warning;
    expect(b64(w.short)).toBe("FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)");
    expect(w.level).toBe(1);
    expect(w.url).toBe("https://docs.docker.com/go/dockerfile/rule/from-as-casing/");
    expect((w.detail ?? []).map(b64).join("")).toContain("should match the case");
    expect(w.sourceInfo?.filename).toBe("Dockerfile");
    expect(b64(w.sourceInfo?.data ?? "")).toBe(dockerfile);
    expect(w.range).toEqual([{ start: { line: 1 }, end: { line: 1 } }]);
    // The plain progress shows it under the Dockerfile's load step, as BuildKit's.
    expect(res.stderr).toMatch(/#1 WARN: FromAsCasing: 'as' and 'FROM' keywords' casing do not match \(line 1\)/);
  }, 600_000);

  test("--progress=rawjson carries the warnings on the load build definition vertex", async () => {
    const { ctx } = await lintedContext();
    const work = tempDir();
    const res = await runKitbuild(["build", "--progress=rawjson", "-o", `type=local,dest=${work}/out`, ctx], { env: { KITBUILD_ROOT: `${work}/root` }, timeoutMs: 300_000 });
    expectExit(res, 0);
    const statuses = res.stdout.trim().split("\n").map((l) => JSON.parse(l) as { vertexes?: { digest: string; name: string }[]; warnings?: Warning[] });
    const definition = statuses.flatMap((s) => s.vertexes ?? []).find((v) => v.name.startsWith("[internal] load build definition"));
    const warnings = statuses.flatMap((s) => s.warnings ?? []);
    expect(warnings.map((w) => b64(w.short))).toEqual(["FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)"]);
    expect(warnings[0]?.vertex).toBe(definition?.digest as string);
  }, 600_000);
});
