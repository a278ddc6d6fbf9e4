// --debug-cache says why each step missed: a file, a build arg, the base image, a parent step.
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { busyboxImage, pushImage } from "../../scripts/test-env.ts";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry, expectExit } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `--debug-cache tests: ${NEEDS_ROOT_AND_RUNC}`);

let registry = "";
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
});

const notes = (stderr: string) => stderr.split("\n").filter((l) => l.includes("cache miss:")).map((l) => l.replace(/^#\d+ cache miss: /, ""));

describe.skipIf(skip)("--debug-cache", () => {
  test("names the changed file, build arg, base image and parent step", async () => {
    const repo = `debug-base-${process.pid}`;
    const base = await busyboxImage();
    await pushImage(registry, repo, "latest", base);
    const ctx = tempDir("kitbuild-ctx-");
    mkdirSync(`${ctx}/src`);
    writeFileSync(`${ctx}/src/a.txt`, "a\n");
    writeFileSync(`${ctx}/src/b.txt`, "b\n");
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/${repo}\nARG LEVEL=1\nRUN echo $LEVEL > /level\nCOPY src /src\nRUN cat /src/* > /all\n`);
    const root = `${tempDir()}/root`;
    const build = (...args: string[]) => runKitbuild(["build", "--progress=plain", "--debug-cache", ...args, ctx], { env: { KITBUILD_ROOT: root } });
    const first = await build();
    expectExit(first, 0);
    expect(notes(first.stderr)).toContain("no earlier build of this step is in the cache");

    writeFileSync(`${ctx}/src/b.txt`, "changed\n");
    writeFileSync(`${ctx}/src/c.txt`, "new\n");
    rmSync(`${ctx}/src/a.txt`);
    const files = await build();
    expect(notes(files.stderr)).toEqual([
      'file "src/b.txt" changed',
      'file "src/c.txt" was added',
      'file "src/a.txt" was removed',
      'parent step "[3/4] COPY src /src" changed',
    ]);

    const arg = await build("--build-arg", "LEVEL=2");
    expect(notes(arg.stderr)).toContain('build arg or variable "LEVEL" changed: "1" → "2"');

    await pushImage(registry, repo, "latest", { ...base, config: { ...base.config, config: { Env: ["PATH=/bin", "NEW=1"] } } });
    const image = await build("--build-arg", "LEVEL=2");
    expectExit(image, 0);
    expect(notes(image.stderr).some((n) => /^parent step "\[1\/4\] FROM .*" changed$/.test(n))).toBe(true);
    expect(notes(image.stderr)).toContain('build arg or variable "NEW" was set');
  }, 60_000);
});
