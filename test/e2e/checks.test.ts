// Build checks and frontend calls on the compiled binary, as buildx shows them: `--check` (exit 1 on
// findings, BuildKit's result.statuscode), `--call=check,format=json`, `ignorestatus`, `# check=`
// and BUILDKIT_DOCKERFILE_CHECK, error=true failing a build, a build's "N warnings found" block,
// --call=outline/targets, and `# syntax=`. Base images come from the test registry: UndefinedVar
// needs the image's own variables (BuildKit's docs example: FROM python, ARG VERSION=$PYTHON_VERSION).
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { pushLayers } from "../../scripts/test-env.ts";
import { expectExit, IS_ROOT, NEEDS_ROOT, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

let registry = "";
beforeAll(async () => {
  registry = await testRegistry();
  // An image whose config declares PYTHON_VERSION, as the python image does (no layers needed to lint).
  const config = { architecture: process.arch === "arm64" ? "arm64" : "amd64", os: "linux", config: { Env: ["PATH=/usr/local/bin:/usr/bin:/bin", "PYTHON_VERSION=3.13.0"] } };
  await pushLayers(registry, "python", "latest", [], config);
}, 120_000);

function context(dockerfile: string, files: Record<string, string> = {}): string {
  const dir = tempDir("kitbuild-checks-");
  writeFileSync(`${dir}/Dockerfile`, dockerfile);
  for (const [name, text] of Object.entries(files)) writeFileSync(`${dir}/${name}`, text);
  return dir;
}

function kitbuild(args: string[]) {
  return runKitbuild(args, { env: { KITBUILD_ROOT: tempDir("kitbuild-root-") }, timeoutMs: 180_000 });
}

describe("--check (BuildKit's lint subrequest as buildx prints it)", () => {
  test("findings on stdout with their code frames, exit 1; the base image's own variables are defined (docs: undefined-var)", async () => {
    const ctx = context(`FROM ${registry}/python AS base\nARG VERSION=$PYTHON_VERSION\nCOPY $foo .\n`);
    const res = await kitbuild(["build", "--check", ctx]);
    expectExit(res, 1);
    expect(res.stdout).toBe(
      "Check complete, 1 warning has been found!\n\nWARNING: UndefinedVar - https://docs.docker.com/go/dockerfile/rule/undefined-var/\n" +
        `Usage of undefined variable '$foo'\nDockerfile:3\n--------------------\n   1 |     FROM ${registry}/python AS base\n   2 |     ARG VERSION=$PYTHON_VERSION\n   3 | >>> COPY $foo .\n   4 |     \n--------------------\n`,
    );
    expect(res.stderr).toContain(`load metadata for ${registry}/python`);
  }, 180_000);

  test("a clean Dockerfile: \"Check complete, no warnings found.\", exit 0; nothing is built", async () => {
    const ctx = context(`FROM ${registry}/busybox\nRUN exit 1\n`);
    const res = await kitbuild(["build", "--check", ctx]);
    expectExit(res, 0);
    expect(res.stdout).toBe("Check complete, no warnings found.\n");
  }, 180_000);

  test("--call=check,format=json prints the lint result's JSON; ignorestatus=true exits 0", async () => {
    const ctx = context("FROM scratch AS Base\nMAINTAINER me\n");
    const res = await kitbuild(["build", "--call=check,format=json", ctx]);
    expectExit(res, 1);
    const json = JSON.parse(res.stdout);
    expect(json.warnings.map((w: { ruleName: string; detail: string }) => [w.ruleName, w.detail])).toEqual([
      ["StageNameCasing", "Stage name 'Base' should be lowercase"],
      ["MaintainerDeprecated", "Maintainer instruction is deprecated in favor of using label"],
    ]);
    expect(json.warnings[0].location).toEqual({ ranges: [{ start: { line: 1 }, end: { line: 1 } }] });
    expect(Buffer.from(json.sources[0].data, "base64").toString()).toBe("FROM scratch AS Base\nMAINTAINER me\n");
    expectExit(await kitbuild(["build", "--call=check,ignorestatus=true", ctx]), 0);
  }, 180_000);

  test("# check=skip=… and --build-arg BUILDKIT_DOCKERFILE_CHECK=… choose the rules", async () => {
    const ctx = context("# check=skip=StageNameCasing\nFROM scratch AS Base\nMAINTAINER me\n");
    const res = await kitbuild(["build", "--check", ctx]);
    expectExit(res, 1);
    expect(res.stdout).toContain("WARNING: MaintainerDeprecated");
    expect(res.stdout).not.toContain("WARNING: StageNameCasing");
    const skipped = await kitbuild(["build", "--check", "--build-arg", "BUILDKIT_DOCKERFILE_CHECK=skip=all", ctx]);
    expectExit(skipped, 0);
    expect(skipped.stdout).toBe("Check complete, no warnings found.\n");
  }, 180_000);

  test("error=true: the findings, then BuildKit's \"lint violation\" error", async () => {
    const res = await kitbuild(["build", "--check", context("# check=error=true\nFROM scratch AS Base\n")]);
    expectExit(res, 1);
    expect(res.stdout).toContain("WARNING: StageNameCasing");
    expect(res.stderr).toContain("lint violation found for rules: StageNameCasing");
  }, 180_000);

  test("a Dockerfile on stdin (kitbuild build --check -) is checked like a context's", async () => {
    const res = await runKitbuild(["build", "--check", "-"], { stdin: "FROM scratch AS X\n", env: { KITBUILD_ROOT: tempDir("kitbuild-root-") }, timeoutMs: 180_000 });
    expectExit(res, 1);
    expect(res.stdout).toContain("WARNING: StageNameCasing");
    expect(res.stdout).toContain("   1 | >>> FROM scratch AS X\n");
  }, 180_000);

  test("a Dockerfile the build refuses is refused with the build's error; an empty continuation line is NoEmptyContinuation", async () => {
    const bad = await kitbuild(["build", "--check", context("FROM scratch\nCOPY --bogus=1 a /\n")]);
    expectExit(bad, 1);
    expect(bad.stderr).toContain(">>> COPY --bogus=1 a /");
    expect(bad.stderr).toContain("unknown flag: --bogus");
    expect(bad.stderr).not.toContain("internal error");
    const empty = await kitbuild(["build", "--check", context("FROM scratch\nEXPOSE \\\n\n80\n")]);
    expectExit(empty, 1);
    expect(empty.stdout).toContain("WARNING: NoEmptyContinuation - https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/\nEmpty continuation line\nDockerfile:4\n");
  }, 180_000);

  test("a FROM that --build-context replaces is not resolved as an image", async () => {
    const dir = tempDir("kitbuild-named-");
    const res = await kitbuild(["build", "--check", "--build-context", `base=${dir}`, context("FROM base\nCOPY $foo /\n")]);
    expectExit(res, 0);
    expect(res.stdout).toBe("Check complete, no warnings found.\n");
    expect(res.stderr).not.toContain("load metadata");
  }, 180_000);

  test("an unknown --call is a usage error; --help lists --check and --call", async () => {
    const res = await kitbuild(["build", "--call=nope", context("FROM scratch\n")]);
    expectExit(res, 2);
    expect(res.stderr).toContain('unsupported --call "nope"');
    const help = await kitbuild(["build", "--help"]);
    expect(help.stdout + help.stderr).toContain("--check");
    expect(help.stdout + help.stderr).toContain("--call");
  }, 180_000);
});

describe("--call=outline and --call=targets", () => {
  const df = "# base the base stage\nFROM scratch AS base\n# GREETING what to say\nARG GREETING=hello\nRUN --mount=type=secret,id=token,required=true true\n\nFROM base AS final\n";
  test("targets as buildx prints them", async () => {
    const res = await kitbuild(["build", "--call=targets", context(df)]);
    expectExit(res, 0);
    expect(res.stdout).toBe("TARGET          DESCRIPTION\nbase            the base stage\nfinal (default) \n");
  }, 180_000);

  test("outline of a target: its build args and secrets; JSON with format=json", async () => {
    const ctx = context(df);
    const res = await kitbuild(["build", "--call=outline", "--target", "base", "--build-arg", "GREETING=hi", ctx]);
    expectExit(res, 0);
    expect(res.stdout).toBe("TARGET:      base\nDESCRIPTION: the base stage\n\nBUILD ARG   VALUE   DESCRIPTION\nGREETING    hi      what to say\n\nSECRET   REQUIRED\ntoken    true\n\n");
    const json = await kitbuild(["build", "--call=outline,format=json", ctx]);
    expectExit(json, 0);
    const o = JSON.parse(json.stdout);
    expect(o.name).toBe("final");
    expect(o.args).toEqual([{ name: "GREETING", description: "what to say", value: "hello", location: { ranges: [{ start: { line: 4 }, end: { line: 4 } }] } }]);
  }, 180_000);
});

describe("# syntax=", () => {
  test("any frontend other than docker/dockerfile:1 is refused, naming the image", async () => {
    const res = await kitbuild(["build", "--check", context("# syntax=example.com/frontends/yaml:1\nFROM scratch\n")]);
    expectExit(res, 1);
    expect(res.stderr).toContain('unsupported frontend "example.com/frontends/yaml:1": only the built-in Dockerfile frontend (docker/dockerfile:1) is supported');
    expect(res.stderr).toContain(">>> # syntax=example.com/frontends/yaml:1");
  }, 180_000);
});

describe.skipIf(skipBecause(!IS_ROOT, `build with warnings: ${NEEDS_ROOT}`))("a build's findings", () => {
  test("# syntax=docker/dockerfile:1 builds; the warnings are listed after the progress, as buildx lists them", async () => {
    const ctx = context("# syntax=docker/dockerfile:1.7-labs\nFROM scratch AS Out\nCOPY a.txt /\nENTRYPOINT /a.txt\n", { "a.txt": "a\n" });
    const out = `${tempDir("kitbuild-out-")}/out`;
    const res = await kitbuild(["build", "--progress=plain", "-o", `type=local,dest=${out}`, ctx]);
    expectExit(res, 0);
    expect(readFileSync(`${out}/a.txt`, "utf8")).toBe("a\n");
    expect(res.stderr).toEndWith(
      "\n 2 warnings found (use docker --debug to expand):\n - StageNameCasing: Stage name 'Out' should be lowercase (line 2)\n - JSONArgsRecommended: JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals (line 4)\n",
    );
  }, 180_000);

  test("UndefinedVar in a build judges with the resolved base image's variables", async () => {
    const ctx = context(`FROM ${registry}/python\nENV V=$PYTHON_VERSION W=$NOPE\n`);
    const out = `${tempDir("kitbuild-out-")}/out`;
    const res = await kitbuild(["build", "--progress=plain", "-o", `type=local,dest=${out}`, ctx]);
    expectExit(res, 0);
    expect(res.stderr).toEndWith("\n 1 warning found (use docker --debug to expand):\n - UndefinedVar: Usage of undefined variable '$NOPE' (line 2)\n");
  }, 180_000);

  test("error=true fails the build before anything runs, after listing the findings", async () => {
    const ctx = context("# check=error=true\nFROM scratch AS Out\nCOPY a.txt /\n", { "a.txt": "a\n" });
    const out = `${tempDir("kitbuild-out-")}/out`;
    const res = await kitbuild(["build", "--progress=plain", "-o", `type=local,dest=${out}`, ctx]);
    expectExit(res, 1);
    expect(res.stderr).toContain(" - StageNameCasing: Stage name 'Out' should be lowercase (line 2)\nERROR: failed to solve: lint violation found for rules: StageNameCasing\n");
    expect(existsSync(out)).toBe(false);
  }, 180_000);
});
