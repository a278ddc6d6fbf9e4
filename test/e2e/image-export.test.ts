// Image outputs through the compiled binary, checked by the tools users have: `docker load` (and
// run), `skopeo inspect`, `umoci unpack`, a push read back from the registry; several outputs from
// one build; reproducible output with SOURCE_DATE_EPOCH. Needs root and runc.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { type DockerDaemon, dockerDaemon, dockerUnavailable } from "../fixtures/docker-daemon.ts";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry, expectExit } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `image export tests: ${NEEDS_ROOT_AND_RUNC}`);
const noDocker = dockerUnavailable();
const skipDocker = skip || skipBecause(noDocker !== undefined, `the docker load test: ${noDocker}`);

let registry = "";
let daemon: DockerDaemon | undefined;
beforeAll(async () => {
  if (skip) return;
  registry = await testRegistry();
  if (!skipDocker) daemon = await dockerDaemon();
}, 60_000);
afterAll(async () => {
  if (daemon && "stop" in daemon) await daemon.stop();
});

function tool(cmd: string, args: string[]): { code: number | null; out: string } {
  const res = spawnSync(cmd, args, { encoding: "utf8" });
  return { code: res.status, out: `${res.stdout}${res.stderr}` };
}

function context(): string {
  const ctx = tempDir("kitbuild-ctx-");
  writeFileSync(`${ctx}/hello.txt`, "hello from the context\n");
  writeFileSync(
    `${ctx}/Dockerfile`,
    [
      `FROM ${registry}/busybox`,
      "WORKDIR /app",
      "COPY hello.txt .",
      "RUN echo built > built.txt",
      'CMD ["cat", "/app/hello.txt", "/app/built.txt"]',
      "LABEL org.example.kind=test",
      "",
    ].join("\n"),
  );
  return ctx;
}

const build = (ctx: string, root: string, args: string[], env: Record<string, string> = {}) =>
  runKitbuild(["build", "--progress=plain", ...args, ctx], { env: { KITBUILD_ROOT: root, ...env } });

describe.skipIf(skip)("image outputs (compiled binary)", () => {
  test("one build writes several outputs: local, OCI (skopeo, umoci), docker archive and a push", async () => {
    const ctx = context();
    const work = tempDir();
    const name = `${registry}/exported:1.0`;
    const res = await build(ctx, `${work}/root`, [
      "-t", name,
      "-o", `type=local,dest=${work}/fs`,
      "-o", `type=oci,dest=${work}/oci.tar`,
      "-o", `type=docker,dest=${work}/docker.tar`,
      "--push",
      "--label", "org.example.extra=yes",
      "--iidfile", `${work}/iid`,
      "--metadata-file", `${work}/meta.json`,
    ]);
    expect(res.stderr).toContain("exporting to oci image format");
    expectExit(res, 0);
    expect(readFileSync(`${work}/fs/app/built.txt`, "utf8")).toBe("built\n");

    const oci = tool("skopeo", ["inspect", `oci-archive:${work}/oci.tar`]);
    expectExit(oci, 0);
    const inspected = JSON.parse(oci.out) as { Labels: Record<string, string>; Layers: string[] };
    expect(inspected.Labels).toEqual({ "org.example.kind": "test", "org.example.extra": "yes" });
    expect(inspected.Layers).toHaveLength(4); // busybox, WORKDIR, COPY, RUN

    mkdirSync(`${work}/layout`);
    expectExit(tool("tar", ["-xf", `${work}/oci.tar`, "-C", `${work}/layout`]), 0);
    const unpack = tool("umoci", ["unpack", "--rootless", "--image", `${work}/layout:1.0`, `${work}/bundle`]);
    expect(unpack.out).toBe("");
    expect(readFileSync(`${work}/bundle/rootfs/app/hello.txt`, "utf8")).toBe("hello from the context\n");

    const pushed = tool("skopeo", ["inspect", "--tls-verify=false", `docker://${name}`]);
    expectExit(pushed, 0);
    const meta = JSON.parse(readFileSync(`${work}/meta.json`, "utf8")) as Record<string, string>;
    expect(JSON.parse(pushed.out).Digest).toBe(meta["containerimage.digest"]);
    expect(meta["image.name"]).toBe(name);
    expect(readFileSync(`${work}/iid`, "utf8")).toBe(meta["containerimage.config.digest"] as string);

    // The pushed image (its layers are multi-member gzip) is a base kitbuild itself can build on.
    const next = tempDir("kitbuild-ctx-");
    writeFileSync(`${next}/Dockerfile`, `FROM ${name}\nRUN cat /app/hello.txt /app/built.txt > /both.txt\n`);
    const again = await runKitbuild(["build", "--progress=plain", "-o", `${work}/next`, next], { env: { KITBUILD_ROOT: `${work}/other-root` } });
    expectExit(again, 0);
    expect(readFileSync(`${work}/next/both.txt`, "utf8")).toBe("hello from the context\nbuilt\n");
  }, 120_000);

  test.skipIf(skipDocker)("the docker archive loads with docker load and the image runs", async () => {
    if (!daemon || "unavailable" in daemon) throw new Error(`no docker daemon: ${daemon && "unavailable" in daemon ? daemon.unavailable : "not started"}`);
    const ctx = context();
    const work = tempDir();
    const tag = `kitbuild-e2e-${process.pid}:latest`;
    const res = await build(ctx, `${work}/root`, ["-o", `type=docker,name=${tag},dest=${work}/image.tar`, "--iidfile", `${work}/iid`]);
    expectExit(res, 0);
    const load = tool(daemon.docker, ["load", "-i", `${work}/image.tar`]);
    expect(load.out).toContain(`Loaded image: ${tag}`);
    try {
      const run = tool(daemon.docker, ["run", "--rm", tag]);
      expect(run.out).toBe("hello from the context\nbuilt\n");
      const id = tool(daemon.docker, ["image", "inspect", tag, "--format", "{{.Id}}"]).out.trim();
      expect(id).toBe(readFileSync(`${work}/iid`, "utf8"));
    } finally {
      tool(daemon.docker, ["rmi", "-f", tag]);
    }
  }, 120_000);

  test("two builds on two empty cache roots give byte-identical OCI tars with SOURCE_DATE_EPOCH", async () => {
    const ctx = context();
    const work = tempDir();
    const tars: Buffer[] = [];
    for (const i of [1, 2]) {
      const res = await build(ctx, `${work}/root${i}`, ["-o", `type=oci,dest=${work}/img${i}.tar,rewrite-timestamp=true`], { SOURCE_DATE_EPOCH: "1700000000" });
      expectExit(res, 0);
      tars.push(readFileSync(`${work}/img${i}.tar`));
    }
    expect(tars[0]?.equals(tars[1] as Buffer)).toBe(true);
    const config = JSON.parse(tool("skopeo", ["inspect", "--config", `oci-archive:${work}/img1.tar`]).out) as { created: string };
    expect(config.created).toBe(new Date(1700000000 * 1000).toISOString().replace(".000Z", "Z"));
  }, 120_000);

  test("base layers are reused as pulled; force-compression and zstd compress them again", async () => {
    const ctx = context();
    const work = tempDir();
    const root = `${work}/root`;
    const base = JSON.parse(tool("skopeo", ["inspect", "--tls-verify=false", `docker://${registry}/busybox`]).out) as { Layers: string[] };
    expectExit(await build(ctx, root, ["-o", `type=oci,dest=${work}/a.tar`]), 0);
    const layers = (file: string) => (JSON.parse(tool("skopeo", ["inspect", `oci-archive:${work}/${file}`]).out) as { Layers: string[] }).Layers;
    expect(layers("a.tar")[0]).toBe(base.Layers[0]);
    expectExit(await build(ctx, root, ["-o", `type=oci,dest=${work}/b.tar,compression=zstd,force-compression=true`]), 0);
    expect(layers("b.tar")[0]).not.toBe(base.Layers[0]);
    const raw = JSON.parse(tool("skopeo", ["inspect", "--raw", `oci-archive:${work}/b.tar`]).out) as { layers: Array<{ mediaType: string }> };
    expect(new Set(raw.layers.map((l) => l.mediaType))).toEqual(new Set(["application/vnd.oci.image.layer.v1.tar+zstd"]));
    // A docker archive with zstd keeps Docker's manifest, its zstd layers named as BuildKit names them.
    expectExit(await build(ctx, root, ["-o", `type=docker,dest=${work}/c.tar,compression=zstd,force-compression=true`]), 0);
    const member = (name: string) => JSON.parse(tool("tar", ["-xOf", `${work}/c.tar`, name]).out);
    const index = member("index.json") as { manifests: Array<{ digest: string }> };
    const manifest = member(`blobs/sha256/${index.manifests[0]?.digest.slice("sha256:".length)}`) as { mediaType: string; layers: Array<{ mediaType: string }> };
    expect(manifest.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(new Set(manifest.layers.map((l) => l.mediaType))).toEqual(new Set(["application/vnd.docker.image.rootfs.diff.tar.zstd"]));
  }, 120_000);
});
