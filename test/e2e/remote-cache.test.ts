// The remote cache through the compiled binary against the test registry (and a fault-injecting proxy
// in front of it): a fresh cache root that imports a cache exported by another builds everything
// CACHED and exports the same image, downloading only the layers it needs; mode=min against max; an
// OCI layout directory; imports that fail are a warning and a miss; flags kitbuild cannot honour are
// refused. Needs root and runc.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { busyboxImage, pushImage, startRegistry } from "../../scripts/test-env.ts";
import { type FaultProxy, startFaultProxy } from "../fixtures/fault-proxy.ts";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry, expectExit } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `remote cache e2e tests: ${NEEDS_ROOT_AND_RUNC}`);

let registry = "";
let proxy: FaultProxy;
beforeAll(async () => {
  if (skip) return;
  registry = await testRegistry();
  proxy = await startFaultProxy(registry.split("/")[0] as string);
});
afterAll(() => proxy?.stop());

let tags = 0;
const cacheRef = (host = registry) => `${host.split("/")[0]}/kitbuild-cache/app:t${process.pid}-${++tags}`;

/** A two-stage context: a `mid` stage whose file the final stage copies, and two RUN steps. */
function context(last = "two"): string {
  const ctx = tempDir("kitbuild-ctx-");
  writeFileSync(`${ctx}/Dockerfile`, [
    `FROM ${registry}/busybox AS mid`, "RUN echo mid > /mid",
    `FROM ${registry}/busybox`, "RUN echo one > /one", "COPY --from=mid /mid /mid", `RUN echo ${last} > /last`, "",
  ].join("\n"));
  return ctx;
}

function build(ctx: string, root: string, args: string[]) {
  return runKitbuild(["build", "--progress=plain", "--build-arg", "SOURCE_DATE_EPOCH=1", ...args, ctx], { env: { KITBUILD_ROOT: root } });
}

/** How each step ended ("[mid 2/2]" → CACHED, DONE, …) in a plain-progress log. */
function outcomes(stderr: string): Record<string, string> {
  const names = new Map<string, string>();
  const out: Record<string, string> = {};
  for (const line of stderr.split("\n")) {
    const head = /^#(\d+) (\[[^\]]+\])/.exec(line);
    if (head) names.set(head[1] as string, head[2] as string);
    const end = /^#(\d+) (DONE|CACHED|ERROR)\b/.exec(line);
    const step = end ? names.get(end[1] as string) : undefined;
    if (end && step && step !== "[internal]") out[step] = end[2] as string;
  }
  return out;
}

/** The config digest (the image ID) of the one image in an OCI archive. */
function configDigest(archive: string): string {
  const read = (name: string) => JSON.parse(Bun.spawnSync(["tar", "-xOf", archive, name]).stdout.toString());
  const index = read("index.json") as { manifests: Array<{ digest: string }> };
  const manifest = read(`blobs/sha256/${index.manifests[0]?.digest.slice(7)}`) as { config: { digest: string } };
  return manifest.config.digest;
}

const sha = (path: string) => new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");

/** The cache's config as the registry holds it (manifest, then its config blob). */
async function cacheConfig(ref: string): Promise<{ layers: Array<{ digest: string }>; entries: Record<string, { name: string; outputs: number[][] }> }> {
  const [host, rest] = [ref.slice(0, ref.indexOf("/")), ref.slice(ref.indexOf("/") + 1)];
  const [repo, tag] = rest.split(":") as [string, string];
  const manifest = await (await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } })).json() as { config: { digest: string } };
  return (await fetch(`http://${host}/v2/${repo}/blobs/${manifest.config.digest}`)).json() as never;
}

describe.skipIf(skip)("remote cache (compiled binary)", () => {
  test("a fresh cache root imports a mode=max registry cache: all CACHED, the same image, only needed layers fetched", async () => {
    const ctx = context();
    const work = tempDir();
    const ref = cacheRef(proxy.addr);
    const first = await build(ctx, `${work}/a`, ["--cache-to", `type=registry,ref=${ref},mode=max`, "-o", `type=oci,dest=${work}/a.tar`]);
    expectExit(first, 0);
    proxy.seen.length = 0;
    const second = await build(ctx, `${work}/b`, ["--cache-from", ref, "-o", `type=oci,dest=${work}/b.tar`]);
    expectExit(second, 0);
    expect(Object.values(outcomes(second.stderr)).filter((o) => o !== "CACHED")).toEqual([]);
    expect(outcomes(second.stderr)["[stage-1 4/4]"]).toBe("CACHED");
    expect(sha(`${work}/b.tar`)).toBe(sha(`${work}/a.tar`));
    // Lazy: the mid stage's own layer is needed by no step that ran or was exported.
    const config = await cacheConfig(ref);
    const mid = Object.values(config.entries).find((e) => e.name.startsWith("[mid 2/2]"));
    const midLayer = config.layers[mid?.outputs[0]?.at(-1) as number]?.digest;
    expect(midLayer).toMatch(/^sha256:/);
    const fetched = proxy.seen.filter((r) => r.method === "GET" && r.path.includes("/blobs/")).map((r) => r.path.slice(r.path.lastIndexOf("/") + 1));
    expect(fetched.length).toBeGreaterThan(0);
    expect(fetched).not.toContain(midLayer);
  }, 120_000);

  test("mode=min holds the final image's steps only; mode=max also the intermediate stage's", async () => {
    const ctx = context();
    const work = tempDir();
    const [min, max] = [cacheRef(), cacheRef()];
    expectExit(await build(ctx, `${work}/a`, ["--cache-to", `type=registry,ref=${min}`, "--cache-to", `type=registry,ref=${max},mode=max`]), 0);
    const fromMin = await build(ctx, `${work}/b`, ["--target", "mid", "--debug-cache", "--cache-from", min]);
    expectExit(fromMin, 0);
    expect(outcomes(fromMin.stderr)["[mid 2/2]"]).toBe("DONE");
    expect(fromMin.stderr).toContain(`cache miss: not in the remote cache "${min}" either`);
    const fromMax = await build(ctx, `${work}/c`, ["--target", "mid", "--cache-from", `type=registry,ref=${max}`]);
    expectExit(fromMax, 0);
    expect(outcomes(fromMax.stderr)["[mid 2/2]"]).toBe("CACHED");
  }, 120_000);

  test("two builds exporting to one reference at the same time both find their steps in it", async () => {
    const [ctxA, ctxB] = [context("alpha"), context("beta")];
    const work = tempDir();
    const ref = cacheRef();
    const exports = await Promise.all([
      build(ctxA, `${work}/a`, ["--cache-to", `type=registry,ref=${ref},mode=max`]),
      build(ctxB, `${work}/b`, ["--cache-to", `type=registry,ref=${ref},mode=max`]),
    ]);
    for (const r of exports) expectExit(r, 0);
    for (const [name, ctx] of [["a2", ctxA], ["b2", ctxB]] as const) {
      const res = await build(ctx, `${work}/${name}`, ["--cache-from", ref]);
      expectExit(res, 0, name);
      expect(Object.values(outcomes(res.stderr)).filter((o) => o !== "CACHED"), name).toEqual([]);
    }
  }, 180_000);

  test("after the registry's garbage collection (untagged manifests deleted) the cache still imports", async () => {
    const dir = tempDir("kitbuild-gc-registry-");
    const { child, addr } = await startRegistry(dir);
    try {
      await pushImage(addr, "busybox", "latest", await busyboxImage());
      const ctx = tempDir("kitbuild-ctx-");
      writeFileSync(`${ctx}/Dockerfile`, `FROM ${addr}/busybox\nRUN echo one > /one\nRUN echo two > /two\n`);
      const work = tempDir();
      const ref = `${addr}/cache/gc:latest`;
      expectExit(await build(ctx, `${work}/a`, ["--cache-to", `type=registry,ref=${ref},mode=max`]), 0);
      // A second export replaces the tagged manifest: the first is now untagged, and collected.
      writeFileSync(`${ctx}/Dockerfile`, `FROM ${addr}/busybox\nRUN echo one > /one\nRUN echo three > /three\n`);
      expectExit(await build(ctx, `${work}/b`, ["--cache-to", `type=registry,ref=${ref},mode=max`]), 0);
      const gc = Bun.spawnSync(["docker-registry", "garbage-collect", "--delete-untagged", `${dir}/config.yml`]);
      expect(gc.exitCode, gc.stderr.toString()).toBe(0);
      expect(gc.stdout.toString()).toContain("blob eligible for deletion");
      for (const last of ["two", "three"]) {
        writeFileSync(`${ctx}/Dockerfile`, `FROM ${addr}/busybox\nRUN echo one > /one\nRUN echo ${last} > /${last}\n`);
        const res = await build(ctx, `${work}/fresh-${last}`, ["--cache-from", ref]);
        expectExit(res, 0, last);
        expect(Object.values(outcomes(res.stderr)).filter((o) => o !== "CACHED"), last).toEqual([]);
      }
    } finally {
      child.kill("SIGTERM");
    }
  }, 180_000);

  test("an inline cache travels in the pushed image; a re-export carries the steps it did not run", async () => {
    const ctx = context();
    const work = tempDir();
    const base = cacheRef();
    const image = (n: number) => `${base}-inline-${n}`;
    const digestOf = (file: string) => (JSON.parse(readFileSync(file, "utf8")) as Record<string, string>)["containerimage.digest"];
    // No default provenance: its times and names would make the two pushes' indexes differ.
    const push = (root: string, tag: string, extra: string[]) => build(ctx, root, [...extra, "-t", tag, "--push", "--provenance=false", "--metadata-file", `${root}.json`]);
    expectExit(await push(`${work}/a`, image(1), ["--cache-to", "type=inline"]), 0);
    // The second machine imports from the image and pushes it again (buildx's older spelling).
    const second = await push(`${work}/b`, image(2), ["--build-arg", "BUILDKIT_INLINE_CACHE=1", "--cache-from", image(1)]);
    expectExit(second, 0);
    expect(Object.values(outcomes(second.stderr)).filter((o) => o !== "CACHED")).toEqual([]);
    expect(second.stderr).not.toContain("were not consumed");
    expect(digestOf(`${work}/b.json`)).toBe(digestOf(`${work}/a.json`));
    // The second machine found only the last step, yet its image carries every step of the image.
    writeFileSync(`${ctx}/Dockerfile`, readFileSync(`${ctx}/Dockerfile`, "utf8").replace("echo two", "echo three"));
    const third = await build(ctx, `${work}/c`, ["--cache-from", image(2)]);
    expectExit(third, 0);
    expect(outcomes(third.stderr)["[stage-1 3/4]"]).toBe("CACHED");
    expect(outcomes(third.stderr)["[stage-1 4/4]"]).toBe("DONE");
  }, 180_000);

  test("cache mounts travel only when asked for (cache-mounts=ID)", async () => {
    const write = tempDir("kitbuild-ctx-");
    writeFileSync(`${write}/Dockerfile`, `FROM ${registry}/busybox\nRUN --mount=type=cache,id=pkgs,target=/c echo downloaded > /c/pkg\n`);
    const read = tempDir("kitbuild-ctx-");
    writeFileSync(`${read}/Dockerfile`, `FROM ${registry}/busybox\nRUN --mount=type=cache,id=pkgs,target=/c (cat /c/pkg || echo none) > /seen\n`);
    const work = tempDir();
    const [withMounts, without] = [cacheRef(), cacheRef()];
    const exported = await build(write, `${work}/a`, ["--cache-to", `type=registry,ref=${withMounts},"cache-mounts=pkgs"`, "--cache-to", `type=registry,ref=${without}`]);
    expectExit(exported, 0);
    for (const [name, ref, seen] of [["b", withMounts, "downloaded\n"], ["c", without, "none\n"]] as const) {
      const res = await build(read, `${work}/${name}`, ["--cache-from", ref, "-o", `type=local,dest=${work}/${name}-out`]);
      expectExit(res, 0, name);
      expect(readFileSync(`${work}/${name}-out/seen`, "utf8"), name).toBe(seen);
    }
    const missing = await build(write, `${work}/d`, ["--cache-to", `type=registry,ref=${cacheRef()},cache-mounts=nope`]);
    expectExit(missing, 1);
    expect(missing.stderr).toContain('no cache mount with id "nope"');
  }, 180_000);

  test("an OCI layout directory round trip (type=local), under a tag", async () => {
    const ctx = context();
    const work = tempDir();
    const dir = `${work}/cache`;
    expectExit(await build(ctx, `${work}/a`, ["--cache-to", `type=local,dest=${dir},mode=max,tag=v1`, "-o", `type=oci,dest=${work}/a.tar`]), 0);
    const index = JSON.parse(readFileSync(`${dir}/index.json`, "utf8")) as { manifests: Array<{ annotations: Record<string, string> }> };
    expect(index.manifests.map((m) => m.annotations["org.opencontainers.image.ref.name"])).toEqual(["v1"]);
    const second = await build(ctx, `${work}/b`, ["--cache-from", `type=local,src=${dir},tag=v1`, "-o", `type=oci,dest=${work}/b.tar`]);
    expectExit(second, 0);
    expect(Object.values(outcomes(second.stderr)).filter((o) => o !== "CACHED")).toEqual([]);
    expect(sha(`${work}/b.tar`)).toBe(sha(`${work}/a.tar`));
  }, 120_000);

  test("compression=zstd (force-compression=true: base layers too) round trips; uncompressed too", async () => {
    const ctx = context();
    const work = tempDir();
    for (const [compression, mediaType] of [["zstd", "application/vnd.oci.image.layer.v1.tar+zstd"], ["uncompressed", "application/vnd.oci.image.layer.v1.tar"]] as const) {
      const dir = `${work}/cache-${compression}`;
      const to = `type=local,dest=${dir},mode=max,compression=${compression},compression-level=3,force-compression=true`;
      expectExit(await build(ctx, `${work}/a-${compression}`, ["--cache-to", to, "-o", `type=oci,dest=${work}/a-${compression}.tar`]), 0);
      const index = JSON.parse(readFileSync(`${dir}/index.json`, "utf8")) as { manifests: Array<{ digest: string }> };
      const blob = (digest: string) => JSON.parse(readFileSync(`${dir}/blobs/sha256/${digest.slice(7)}`, "utf8"));
      const manifest = blob(index.manifests[0]?.digest as string) as { layers: Array<{ mediaType: string }> };
      expect(manifest.layers.length).toBeGreaterThan(1);
      expect(new Set(manifest.layers.map((l) => l.mediaType))).toEqual(new Set([mediaType]));
      const second = await build(ctx, `${work}/b-${compression}`, ["--cache-from", `type=local,src=${dir}`, "-o", `type=oci,dest=${work}/b-${compression}.tar`]);
      expectExit(second, 0);
      expect(Object.values(outcomes(second.stderr)).filter((o) => o !== "CACHED")).toEqual([]);
      // The same image (config digest, which holds the DiffIDs); layers taken from the cache keep its
      // compression, as BuildKit keeps them without force-compression.
      expect(configDigest(`${work}/b-${compression}.tar`)).toBe(configDigest(`${work}/a-${compression}.tar`));
    }
  }, 120_000);

  test("an import that fails is one warning and a miss; the build succeeds", async () => {
    const ctx = context();
    const work = tempDir();
    const ref = cacheRef(proxy.addr);
    expectExit(await build(ctx, `${work}/a`, ["--cache-to", `type=registry,ref=${ref},mode=max`]), 0);
    const cases: Array<[string, string[], string]> = [
      ["registry down", ["--cache-from", "127.0.0.1:1/nothing/here:x"], "cannot import the cache from 127.0.0.1:1/nothing/here:x"],
      ["ref missing", ["--cache-from", `${cacheRef()}-missing`], "cannot import the cache from"],
    ];
    for (const [why, args, warning] of cases) {
      const res = await build(ctx, `${work}/${why.replace(" ", "-")}`, args);
      expectExit(res, 0, why);
      expect(res.stderr.split(warning).length - 1, why).toBe(1);
      expect(outcomes(res.stderr)["[stage-1 4/4]"], why).toBe("DONE");
    }
    // A manifest that arrives corrupt (the registry's digest check fails): a warning and a miss.
    const tag = ref.slice(ref.lastIndexOf(":") + 1);
    proxy.rules.push({ method: "GET", path: (p) => p.endsWith(`/manifests/${tag}`), fault: { kind: "corrupt" }, times: Infinity });
    try {
      const res = await build(ctx, `${work}/corrupt`, ["--cache-from", ref]);
      expectExit(res, 0);
      expect(res.stderr.split("cannot import the cache from").length - 1).toBe(1);
      expect(outcomes(res.stderr)["[stage-1 4/4]"]).toBe("DONE");
    } finally {
      proxy.rules.length = 0;
    }
    // A layer blob that the registry no longer has: the step that needs it runs again.
    const config = await cacheConfig(ref);
    const top = Object.values(config.entries).find((e) => e.name.startsWith("[stage-1 4/4]"));
    const topLayer = config.layers[top?.outputs[0]?.at(-1) as number]?.digest as string;
    proxy.rules.push({ method: "GET", path: (p) => p.endsWith(topLayer), fault: { kind: "status", status: 404 }, times: Infinity });
    try {
      const res = await build(ctx, `${work}/deleted`, ["--cache-from", ref]);
      expectExit(res, 0);
      expect(res.stderr).toContain("cannot be used");
      expect(outcomes(res.stderr)["[stage-1 4/4]"]).toBe("DONE");
    } finally {
      proxy.rules.length = 0;
    }
  }, 180_000);

  test("a BuildKit cache is a warning and a miss; an export that fails fails the build unless ignore-error=true", async () => {
    const ctx = context();
    const work = tempDir();
    const dir = `${work}/buildkit-cache`;
    mkdirSync(`${dir}/blobs/sha256`, { recursive: true });
    const config = new TextEncoder().encode("{}");
    const configDigest = new Bun.CryptoHasher("sha256").update(config).digest("hex");
    writeFileSync(`${dir}/blobs/sha256/${configDigest}`, config);
    const manifest = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, config: { mediaType: "application/vnd.buildkit.cacheconfig.v0", digest: `sha256:${configDigest}`, size: config.length }, layers: [] }));
    const manifestDigest = new Bun.CryptoHasher("sha256").update(manifest).digest("hex");
    writeFileSync(`${dir}/blobs/sha256/${manifestDigest}`, manifest);
    writeFileSync(`${dir}/index.json`, JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${manifestDigest}`, size: manifest.length, annotations: { "org.opencontainers.image.ref.name": "latest" } }] }));
    const foreign = await build(ctx, `${work}/a`, ["--cache-from", `type=local,src=${dir}`]);
    expectExit(foreign, 0);
    expect(foreign.stderr).toContain("is a BuildKit cache");

    const failing = await build(ctx, `${work}/a`, ["--cache-to", "type=registry,ref=127.0.0.1:1/nothing/here:x"]);
    expectExit(failing, 1);
    expect(failing.stderr).toContain("exporting cache to 127.0.0.1:1/nothing/here:x");
    const ignored = await build(ctx, `${work}/a`, ["--cache-to", "type=registry,ref=127.0.0.1:1/nothing/here:x,ignore-error=true"]);
    expectExit(ignored, 0);
    expect(ignored.stderr).toContain("failed, ignored (ignore-error=true)");
    expect(readdirSync(`${work}/a`)).toContain("index.db");
  }, 120_000);
});

describe("remote cache flags (compiled binary)", () => {
  test("what kitbuild cannot honour is refused with what to use instead", async () => {
    for (const [flag, message] of [
      ["type=gha", "type=gha is not supported yet"],
      ["type=inline,mode=max", "type=inline takes no attributes"],
      ["type=registry,ref=r/x:1,fancy=1", 'unknown attribute "fancy"'],
      ["type=registry,mode=max", "needs ref="],
      ["type=registry,ref=r/x:1,mode=all", 'invalid mode="all"'],
      ["type=registry,ref=r/x:1,compression=brotli", 'invalid compression="brotli"'],
      ["type=registry,ref=r/x:1,compression=estargz", "compression=estargz is not supported"],
      ["type=registry,ref=r/x:1,compression-level=high", 'invalid compression-level="high"'],
      ["type=registry,ref=r/x:1,compression-level=12", 'compression-level="12" in --cache-to is out of range for gzip'],
      ["type=local,dest=d,force-compression=yes", 'invalid force-compression="yes"'],
    ] as const) {
      const res = await runKitbuild(["build", "--cache-to", flag, "."]);
      expectExit(res, 2, flag);
      expect(res.stderr, flag).toContain(message);
    }
    const from = await runKitbuild(["build", "--cache-from", "type=local,dest=x", "."]);
    expectExit(from, 2);
    expect(from.stderr).toContain('unknown attribute "dest"');
  });
});
