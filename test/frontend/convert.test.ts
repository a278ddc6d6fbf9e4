// Dockerfile → graph conversion, with a fake image resolver (no registry needed).
import { describe, expect, test } from "bun:test";
import type { ExecOp, FileOp, Vertex } from "../../src/llb/ops.ts";
import { type ConvertOptions, convertDockerfile } from "../../src/frontend/dockerfile/convert/convert.ts";
import type { ImageConfig } from "../../src/oci/types.ts";
import { KitError } from "../../src/util/errors.ts";

const DIGEST = `sha256:${"a".repeat(64)}`;
const resolved: string[] = [];

function opts(source: string, extra: Partial<ConvertOptions> = {}): ConvertOptions {
  return {
    source,
    filename: "Dockerfile",
    buildArgs: {},
    target: undefined,
    platform: { os: "linux", architecture: "amd64" },
    buildPlatform: { os: "linux", architecture: "amd64" },
    excludePatterns: [],
    noCacheStages: [],
    resolveImage: async (ref) => {
      resolved.push(ref);
      if (ref.includes("invalid")) throw new Error(`cannot resolve ${ref}`);
      const config: ImageConfig = {
        architecture: "amd64",
        os: "linux",
        config: { Env: ["PATH=/usr/bin:/bin"], Cmd: ["sh"] },
        rootfs: { type: "layers", diff_ids: [] },
      };
      return { ref: `docker.io/library/${ref}:latest@${DIGEST}`, config };
    },
    ...extra,
  };
}

const names = (vs: Array<{ digest: string }>, meta: Record<string, { name?: string }>) => vs.map((v) => meta[v.digest]?.name);
const ops = (def: { vertices: Array<{ vertex: Vertex }> }, kind: string) => def.vertices.map((v) => v.vertex.op).filter((o) => o.kind === kind);

describe("convertDockerfile", () => {
  test("the skeleton becomes image → mkdir → copy from context → exec, named like BuildKit", async () => {
    const src = 'FROM busybox\nARG NAME=world\nENV GREETING="hello ${NAME}"\nWORKDIR /app\nCOPY . .\nRUN echo "$GREETING" > greeting.txt\n';
    const { definition, image } = await convertDockerfile(opts(src));
    expect(names(definition.vertices, definition.metadata)).toEqual([
      `[1/4] FROM docker.io/library/busybox:latest@${DIGEST}`,
      "[2/4] WORKDIR /app",
      "[internal] load build context",
      "[3/4] COPY . .",
      '[4/4] RUN echo "hello world" > greeting.txt',
    ]);
    const exec = ops(definition, "exec")[0] as ExecOp;
    expect(exec.meta.args).toEqual(["/bin/sh", "-c", 'echo "$GREETING" > greeting.txt']);
    expect(exec.meta.cwd).toBe("/app");
    expect(exec.meta.env).toContain("NAME=world");
    expect(exec.meta.env).toContain("GREETING=hello world");
    // ARG values reach RUN's environment but not the image config.
    expect(image.config.Env).toEqual(["PATH=/usr/bin:/bin", "GREETING=hello world"]);
    expect(image.config.WorkingDir).toBe("/app");
    const copy = (ops(definition, "file")[1] as FileOp).actions[0];
    expect(copy).toMatchObject({ action: "copy", src: "/", dest: "/app/", dirCopyContents: true });
    expect(definition.metadata[definition.root?.digest ?? ""]?.location).toEqual({ file: "Dockerfile", ranges: [{ start: 6, end: 6 }] });
  });

  test("--build-arg overrides an ARG default; unused build args are reported", async () => {
    const { definition, unusedBuildArgs } = await convertDockerfile(opts("FROM busybox\nARG NAME=world\nRUN echo $NAME\n", { buildArgs: { NAME: "you", OTHER: "x" } }));
    expect((ops(definition, "exec")[0] as ExecOp).meta.env).toContain("NAME=you");
    expect(unusedBuildArgs).toEqual(["OTHER"]);
    const global = await convertDockerfile(opts("ARG BASE=busybox\nFROM ${BASE}\n", { buildArgs: { BASE: "alpine" } }));
    expect(global.unusedBuildArgs).toEqual([]);
    expect(global.definition.vertices[0]?.vertex.op).toMatchObject({ identifier: `docker-image://docker.io/library/alpine:latest@${DIGEST}` });
  });

  test("every reference inside one ENV sees the value from before it", async () => {
    const { image } = await convertDockerfile(opts("FROM busybox\nENV A=1\nENV A=2 B=$A\n"));
    expect(image.config.Env).toContain("A=2");
    expect(image.config.Env).toContain("B=1");
  });

  test("only stages reachable from the target enter the graph", async () => {
    resolved.length = 0;
    const src = "FROM nonexistent.invalid/broken AS unused\nRUN exit 1\nFROM busybox AS base\nRUN echo base\nFROM base\nRUN echo final\n";
    const { definition } = await convertDockerfile(opts(src));
    expect(resolved).toEqual(["busybox"]);
    expect(ops(definition, "exec").map((o) => (o as ExecOp).meta.args.at(-1))).toEqual(["echo base", "echo final"]);
    expect(names(definition.vertices, definition.metadata)).toContain("[stage-2 1/1] RUN echo final");
  });

  test("--target picks a stage; an unknown one names the stages there are", async () => {
    const src = "FROM busybox AS build\nRUN echo build\nFROM busybox AS test\nRUN echo test\n";
    const { definition } = await convertDockerfile(opts(src, { target: "build" }));
    expect(ops(definition, "exec").map((o) => (o as ExecOp).meta.args.at(-1))).toEqual(["echo build"]);
    const err = await convertDockerfile(opts(src, { target: "nope" })).catch((e) => e);
    expect(err).toBeInstanceOf(KitError);
    expect(err.message).toBe('target stage "nope" could not be found');
    expect(err.hint).toContain("build, test");
  });

  test("identical work in two stages is one vertex", async () => {
    const src = "FROM busybox AS a\nRUN echo same\nFROM busybox AS b\nRUN echo same\nFROM busybox\nCOPY --from=a /x /a\nCOPY --from=b /x /b\n";
    const { definition } = await convertDockerfile(opts(src));
    expect(ops(definition, "exec")).toHaveLength(1);
  });

  test("errors point at the Dockerfile line", async () => {
    const err = await convertDockerfile(opts("FROM busybox\nRUN echo ok\nFROM busybox AS x y\n")).catch((e) => e);
    expect(err).toBeInstanceOf(KitError);
    expect(err.location).toMatchObject({ file: "Dockerfile", startLine: 3, endLine: 3 });
    expect(err.message).toContain("FROM requires either one or three arguments");
    const cycle = await convertDockerfile(opts("FROM busybox AS a\nCOPY --from=a /x /y\n")).catch((e) => e);
    expect(cycle.message).toContain("circular dependency detected on stage: a");
  });
});
