// End to end on the compiled binary: a multi-stage Dockerfile with global and stage ARGs, ENV
// expansion, --target, COPY --from by name and index, and an unused stage that would fail; its
// exported files, its image config and graph through `kitbuild debug`, errors, proxy variables and
// Dockerfile-specific .dockerignore files. The exported files were checked against docker's own
// BuildKit (v0.8) on the same Dockerfile: `DOCKER_BUILDKIT=1 docker build --target final
// --build-arg WHO=kitbuild -o type=local,dest=out .` writes the same four files and contents.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry, expectExit } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `e2e frontend tests: ${NEEDS_ROOT_AND_RUNC}`);

let registry = "";
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
});

const MULTI_STAGE = (reg: string) => `ARG BASE=${reg}/busybox
ARG GREETING=hello
FROM nonexistent.invalid/broken:1 AS broken
RUN exit 1

FROM \${BASE} AS base
ARG GREETING
ARG WHO=world
ENV MESSAGE="\${GREETING}, \${WHO}" APP_DIR=/app
WORKDIR $APP_DIR
COPY src/ ./src/
RUN echo "$MESSAGE" > message.txt && echo "$GREETING" > greeting.txt

FROM base AS test
RUN echo tested > /tested.txt

FROM \${BASE} AS final
ARG WHO
COPY --from=base /app/message.txt /out/message.txt
COPY --from=1 /app/greeting.txt /out/by-index.txt
COPY --from=test /tested.txt /out/
RUN echo "who=\${WHO:-unset} message=\${MESSAGE:-unset}" > /out/who.txt
LABEL org.example.who="\${WHO}"
CMD ["cat", "/out/message.txt"]

FROM broken AS last
`;

function multiStageContext(): string {
  const ctx = tempDir("kitbuild-ctx-");
  writeFileSync(`${ctx}/Dockerfile`, MULTI_STAGE(registry));
  mkdirSync(`${ctx}/src`);
  writeFileSync(`${ctx}/src/main.go`, "package main\n");
  return ctx;
}

function kitbuild(args: string[], root: string, opts: Parameters<typeof runKitbuild>[1] = {}) {
  return runKitbuild(args, { ...opts, env: { KITBUILD_ROOT: root, ...opts.env } });
}

function filesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) out[name] = readFileSync(`${dir}/${name}`, "utf8");
  return out;
}

describe.skipIf(skip)("Dockerfile frontend (compiled binary)", () => {
  test("builds the multi-stage Dockerfile's target; the unused broken stage never runs", async () => {
    const ctx = multiStageContext();
    const work = tempDir();
    const res = await kitbuild(["build", "--progress=plain", "--target", "final", "--build-arg", "WHO=kitbuild", "-o", `type=local,dest=${work}/out`, ctx], `${work}/root`);
    expect(res.stderr).not.toContain("nonexistent.invalid");
    expectExit(res, 0);
    expect(filesUnder(`${work}/out/out`)).toEqual({
      "by-index.txt": "hello\n",
      "message.txt": "hello, kitbuild\n",
      "tested.txt": "tested\n",
      "who.txt": "who=kitbuild message=unset\n",
    });
    expect(res.stderr).toContain('[base 4/4] RUN echo "hello, kitbuild" > message.txt && echo "hello" > greeting.txt');
    expect(res.stderr).toContain("[final 3/5] COPY --from=1 /app/greeting.txt /out/by-index.txt");
    expect(res.stderr.match(/load metadata for /g)).toHaveLength(1);
  });

  test("--target builds an earlier stage only", async () => {
    const ctx = multiStageContext();
    const work = tempDir();
    const res = await kitbuild(["build", "--progress=plain", "--target=test", "-o", `${work}/out`, ctx], `${work}/root`);
    expectExit(res, 0);
    expect(readFileSync(`${work}/out/tested.txt`, "utf8")).toBe("tested\n");
    expect(readFileSync(`${work}/out/app/message.txt`, "utf8")).toBe("hello, world\n");
    expect(existsSync(`${work}/out/out`)).toBe(false);
    expect(res.stderr).not.toContain("[final");
  });

  test("kitbuild debug image-config prints the config the build would write", async () => {
    const ctx = multiStageContext();
    const work = tempDir();
    const res = await kitbuild(["debug", "image-config", "--target", "final", "--build-arg", "WHO=kitbuild", ctx], `${work}/root`);
    // Nothing was built: stderr only names what a run would tell (the new layers' diff_ids, created).
    expect(res.stderr).toStartWith("not known without running the build");
    expectExit(res, 0);
    const image = JSON.parse(res.stdout);
    expect(image.config).toMatchObject({
      Cmd: ["cat", "/out/message.txt"],
      ArgsEscaped: true,
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      Labels: { "org.example.who": "kitbuild" },
    });
    expect(image.os).toBe("linux");
    const ours = image.history.filter((h: { comment?: string }) => h.comment === "buildkit.dockerfile.v0");
    expect(ours.map((h: { created_by: string; empty_layer?: boolean }) => `${h.created_by}${h.empty_layer ? " (empty)" : ""}`)).toEqual([
      "ARG WHO=kitbuild (empty)",
      "COPY /app/message.txt /out/message.txt # buildkit",
      "COPY /app/greeting.txt /out/by-index.txt # buildkit",
      "COPY /tested.txt /out/ # buildkit",
      'RUN |1 WHO=kitbuild /bin/sh -c echo "who=${WHO:-unset} message=${MESSAGE:-unset}" > /out/who.txt # buildkit',
      "LABEL org.example.who=kitbuild (empty)",
      'CMD ["cat" "/out/message.txt"] (empty)',
    ]);
    const base = await kitbuild(["debug", "image-config", "--target", "base", ctx], `${work}/root`);
    expect(JSON.parse(base.stdout).config).toMatchObject({ WorkingDir: "/app", Env: expect.arrayContaining(["MESSAGE=hello, world", "APP_DIR=/app"]) });
  });

  test("kitbuild debug llb prints the graph as JSON or dot, with names and locations", async () => {
    const ctx = multiStageContext();
    const work = tempDir();
    const res = await kitbuild(["debug", "llb", "--target", "final", ctx], `${work}/root`);
    expectExit(res, 0);
    const graph = JSON.parse(res.stdout) as { root: { digest: string }; vertices: Array<{ digest: string; name?: string; op: { kind: string }; location?: unknown }> };
    const names = graph.vertices.map((v) => v.name);
    expect(names).toContain("[test 1/1] RUN echo tested > /tested.txt");
    expect(names.some((n) => n?.includes("broken"))).toBe(false);
    expect(graph.vertices.at(-1)?.digest).toBe(graph.root.digest);
    expect(graph.vertices.find((v) => v.name?.startsWith("[base 3/4] COPY"))?.location).toEqual({ file: "Dockerfile", ranges: [{ start: 11, end: 11 }] });
    const again = await kitbuild(["debug", "llb", "--target", "final", ctx], `${work}/root`);
    expect(again.stdout).toBe(res.stdout);
    const dot = await kitbuild(["debug", "llb", "--format", "dot", "--target", "final", ctx], `${work}/root`);
    expect(dot.stdout).toStartWith("digraph llb {\n");
    expect(dot.stdout).toContain("[test 1/1] RUN echo tested > /tested.txt");
  });

  test("an unknown flag fails with the file, the lines around it and the closest flag", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nWORKDIR /app\nCOPY --chwon=1000 . .\nRUN true\n`);
    const work = tempDir();
    for (const cmd of [["build", "--progress=plain"], ["debug", "llb"]]) {
      const res = await kitbuild([...cmd, ctx], `${work}/root`);
      expectExit(res, 1);
      expect(res.stderr).toContain("ERROR: failed to solve: unknown flag: --chwon\nhint: did you mean --chown?\n");
      expect(res.stderr).toContain("Dockerfile:3\n");
      expect(res.stderr).toContain("   2 |     WORKDIR /app\n   3 | >>> COPY --chwon=1000 . .\n   4 |     RUN true\n");
    }
  });

  test("proxy build args reach RUN but not its cache key", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nRUN echo "$HTTP_PROXY $http_proxy" > /proxy.txt\n`);
    const work = tempDir();
    const first = await kitbuild(["build", "--progress=plain", "--build-arg", "HTTP_PROXY=http://one:3128", "-o", `${work}/a`, ctx], `${work}/root`);
    expectExit(first, 0);
    expect(readFileSync(`${work}/a/proxy.txt`, "utf8")).toBe("http://one:3128 http://one:3128\n");
    expect(first.stderr).not.toContain("one:3128 ");
    const second = await kitbuild(["build", "--progress=plain", "--build-arg", "HTTP_PROXY=http://two:3128", "-o", `${work}/b`, ctx], `${work}/root`);
    expectExit(second, 0);
    expect(second.stderr).toMatch(/\[2\/2\] RUN echo "\$HTTP_PROXY \$http_proxy" > \/proxy.txt\n#\d+ CACHED/);
  });

  test("a Dockerfile's own .dockerignore wins over the context's", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    mkdirSync(`${ctx}/build`);
    writeFileSync(`${ctx}/build/app.Dockerfile`, `FROM ${registry}/busybox\nCOPY . /ctx/\n`);
    writeFileSync(`${ctx}/build/app.Dockerfile.dockerignore`, "secret.txt\nbuild\n");
    writeFileSync(`${ctx}/.dockerignore`, "other.txt\n");
    writeFileSync(`${ctx}/secret.txt`, "s\n");
    writeFileSync(`${ctx}/other.txt`, "o\n");
    const work = tempDir();
    const res = await kitbuild(["build", "--progress=plain", "-f", `${ctx}/build/app.Dockerfile`, "-o", `${work}/out`, ctx], `${work}/root`);
    expectExit(res, 0);
    expect(readdirSync(`${work}/out/ctx`).sort()).toEqual([".dockerignore", "other.txt"]);
  });
});
