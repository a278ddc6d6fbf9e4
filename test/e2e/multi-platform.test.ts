// Multi-platform builds (issue 18) through the compiled binary: --platform a,b converts one graph
// per platform and solves them together; local and tar outputs split per platform (or merge with
// platform-split=false), image outputs write one index, a push is read back with skopeo, and a
// BUILDPLATFORM stage shared by both targets runs once. Dockerfiles without RUN on the foreign
// platform (FROM scratch + COPY), so no emulator is needed. Needs root and runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { multiPlatformBusybox } from "../fixtures/foreign-images.ts";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, expectExit, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `multi-platform e2e tests: ${NEEDS_ROOT_AND_RUNC}`);

let registry = "";
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
}, 60_000);

/** The host's architecture as --platform names it. */
const HOST_ARCH = process.arch === "x64" ? "amd64" : process.arch;
/** Two platforms, the host's first; the other is never run (no RUN in its stages). */
const OTHER_ARCH = HOST_ARCH === "arm64" ? "amd64" : "arm64";
const PLATFORMS = `linux/${HOST_ARCH},linux/${OTHER_ARCH}`;

/** A context whose Dockerfile writes TARGETARCH into /arch.txt (and `name`, if given, per platform). */
function archContext(perPlatformName = false): string {
  const ctx = tempDir("kitbuild-ctx-");
  writeFileSync(`${ctx}/hello.txt`, "hello\n");
  const target = perPlatformName ? "/arch-${TARGETARCH}.txt" : "/arch.txt";
  writeFileSync(`${ctx}/Dockerfile`, ["FROM scratch", "ARG TARGETARCH", ...(perPlatformName ? [] : ["COPY hello.txt /"]), `COPY <<EOF ${target}`, "${TARGETARCH}", "EOF", ""].join("\n"));
  return ctx;
}

async function kitbuild(args: string[], root: string) {
  return runKitbuild(args, { env: { KITBUILD_ROOT: root, KITBUILD_RUNC_ROOT: `${root}-runc` } });
}

function tool(cmd: string, args: string[]): { code: number | null; out: string } {
  const res = spawnSync(cmd, args, { encoding: "utf8" });
  return { code: res.status, out: `${res.stdout}${res.stderr}` };
}

type IndexDoc = { mediaType: string; manifests: Array<{ digest: string; mediaType: string; platform?: { os: string; architecture: string; variant?: string } }> };

describe.skipIf(skip)("multi-platform builds (compiled binary)", () => {
  test("local output: one directory per platform, each with its own TARGETARCH", async () => {
    const work = tempDir();
    const res = await kitbuild(["build", "--progress=plain", "--platform", PLATFORMS, "-o", `type=local,dest=${work}/out`, archContext()], `${work}/root`);
    expectExit(res, 0);
    expect(readdirSync(`${work}/out`).sort()).toEqual([`linux_${HOST_ARCH}`, `linux_${OTHER_ARCH}`].sort());
    for (const arch of [HOST_ARCH, OTHER_ARCH]) {
      expect(readFileSync(`${work}/out/linux_${arch}/arch.txt`, "utf8").trim()).toBe(arch);
      expect(readFileSync(`${work}/out/linux_${arch}/hello.txt`, "utf8")).toBe("hello\n");
    }
    // Step names carry their platform; the COPY both graphs share is one step.
    expect(res.stderr).toContain(`[linux/${OTHER_ARCH} 2/2] COPY <<EOF /arch.txt`);
    expect(res.stderr).toContain(`[linux/${HOST_ARCH} 2/2] COPY <<EOF /arch.txt`);
    expect(stepIds(res.stderr, "1/2] COPY hello.txt /").size).toBe(1);
  }, 120_000);

  test("platform-split=false merges the platforms' files; a file both have is BuildKit's error", async () => {
    const work = tempDir();
    const merged = await kitbuild(["build", "--progress=plain", "--platform", PLATFORMS, "--provenance=true", "-o", `type=local,dest=${work}/out,platform-split=false`, archContext(true)], `${work}/root`);
    expectExit(merged, 0);
    // Each platform's provenance named after it, as BuildKit (moby/buildkit#6051).
    const expected = [HOST_ARCH, OTHER_ARCH].flatMap((a) => [`arch-${a}.txt`, `provenance.linux_${a}.json`]);
    expect(readdirSync(`${work}/out`).sort()).toEqual(expected.sort());
    const statement = JSON.parse(readFileSync(`${work}/out/provenance.linux_${OTHER_ARCH}.json`, "utf8")) as { subject: Array<{ name: string }> };
    expect(statement.subject.map((x) => x.name)).toEqual([`arch-${OTHER_ARCH}.txt`]);
    expect(readFileSync(`${work}/out/arch-${OTHER_ARCH}.txt`, "utf8").trim()).toBe(OTHER_ARCH);

    const clash = await kitbuild(["build", "--progress=plain", "--platform", PLATFORMS, "-o", `type=tar,dest=${work}/out.tar,platform-split=false`, archContext()], `${work}/root`);
    expectExit(clash, 1);
    expect(clash.stderr).toContain(`cannot overwrite hello.txt from linux/${HOST_ARCH} with linux/${OTHER_ARCH} when split option is disabled`);
    expect(existsSync(`${work}/out.tar`)).toBe(false);
  }, 120_000);

  test("tar output: the platforms' directories in one archive", async () => {
    const work = tempDir();
    const res = await kitbuild(["build", "--progress=plain", "--platform", PLATFORMS, "-o", `type=tar,dest=${work}/out.tar`, archContext()], `${work}/root`);
    expectExit(res, 0);
    mkdirSync(`${work}/x`);
    expect(tool("tar", ["xf", `${work}/out.tar`, "-C", `${work}/x`]).code).toBe(0);
    for (const arch of [HOST_ARCH, OTHER_ARCH]) expect(readFileSync(`${work}/x/linux_${arch}/arch.txt`, "utf8").trim()).toBe(arch);
  }, 120_000);

  test("oci output: index.json names one index with a manifest per platform; -q, --iidfile and --metadata-file give its digest", async () => {
    const work = tempDir();
    const res = await kitbuild(["build", "-q", "--platform", PLATFORMS, "-o", `type=oci,dest=${work}/oci,tar=false`, "--iidfile", `${work}/iid`, "--metadata-file", `${work}/md.json`, archContext()], `${work}/root`);
    expectExit(res, 0);
    const layout = JSON.parse(readFileSync(`${work}/oci/index.json`, "utf8")) as IndexDoc;
    expect(layout.manifests).toHaveLength(1);
    const top = layout.manifests[0] as IndexDoc["manifests"][number];
    expect(top.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    const index = JSON.parse(readFileSync(`${work}/oci/blobs/sha256/${top.digest.slice(7)}`, "utf8")) as IndexDoc;
    expect(index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`)).toEqual([`linux/${HOST_ARCH}`, `linux/${OTHER_ARCH}`]);
    for (const m of index.manifests) {
      const manifest = JSON.parse(readFileSync(`${work}/oci/blobs/sha256/${m.digest.slice(7)}`, "utf8")) as { config: { digest: string } };
      const config = JSON.parse(readFileSync(`${work}/oci/blobs/sha256/${manifest.config.digest.slice(7)}`, "utf8")) as { architecture: string; os: string };
      expect(config.architecture).toBe(m.platform?.architecture as string);
    }
    expect(res.stdout.trim()).toBe(top.digest);
    expect(readFileSync(`${work}/iid`, "utf8").trim()).toBe(top.digest);
    const md = JSON.parse(readFileSync(`${work}/md.json`, "utf8")) as Record<string, unknown>;
    expect(md["containerimage.digest"]).toBe(top.digest);
    expect(md["containerimage.config.digest"]).toBeUndefined();
    // skopeo reads each platform's image from the layout.
    const skopeo = tool("skopeo", ["inspect", "--override-arch", OTHER_ARCH, `oci:${work}/oci`]);
    expect(skopeo.code).toBe(0);
    expect(skopeo.out).toContain(`"Architecture": "${OTHER_ARCH}"`);
  }, 120_000);

  test("annotations: index ones need no attestations with several platforms; manifest[PLATFORM] reaches that platform's manifest only", async () => {
    const work = tempDir();
    const res = await kitbuild([
      "build", "--progress=plain", "--platform", PLATFORMS, "-o", `type=oci,dest=${work}/oci,tar=false`,
      "--annotation", "index:org.example.index=i", "--annotation", "org.example.all=a",
      "--annotation", `manifest[linux/${OTHER_ARCH}]:org.example.only=o`, "--annotation", `manifest-descriptor[linux/${OTHER_ARCH}]:org.example.desc=d`,
      archContext(),
    ], `${work}/root`);
    expectExit(res, 0);
    const blob = (digest: string) => JSON.parse(readFileSync(`${work}/oci/blobs/sha256/${digest.slice(7)}`, "utf8")) as { annotations?: Record<string, string>; manifests: IndexDoc["manifests"] & Array<{ annotations?: Record<string, string> }> };
    const layout = JSON.parse(readFileSync(`${work}/oci/index.json`, "utf8")) as IndexDoc;
    const index = blob(layout.manifests[0]?.digest as string);
    expect(index.annotations).toEqual({ "org.example.index": "i" });
    const [host, other] = index.manifests;
    expect(host?.annotations).toBeUndefined();
    expect(other?.annotations).toEqual({ "org.example.desc": "d" });
    expect(blob(host?.digest as string).annotations).toEqual({ "org.example.all": "a" });
    expect(blob(other?.digest as string).annotations).toEqual({ "org.example.all": "a", "org.example.only": "o" });
  }, 120_000);

  test("push: skopeo inspect --raw shows the index, each platform's image carries its own file", async () => {
    const work = tempDir();
    const name = `${registry}/multi-platform:push`;
    const res = await kitbuild(["build", "--progress=plain", "--platform", PLATFORMS, "--push", "-t", name, archContext()], `${work}/root`);
    expectExit(res, 0);
    const raw = tool("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${name}`]);
    expect(raw.code).toBe(0);
    const index = JSON.parse(raw.out) as IndexDoc;
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    const images = index.manifests.filter((m) => m.platform?.os === "linux");
    expect(images.map((m) => m.platform?.architecture)).toEqual([HOST_ARCH, OTHER_ARCH]);
    // Pushed images carry buildx's default provenance: one attestation manifest per platform, each naming its image.
    const attestations = index.manifests.filter((m) => m.platform?.os === "unknown");
    expect(attestations).toHaveLength(2);
    for (const arch of [HOST_ARCH, OTHER_ARCH]) {
      const dir = `${work}/${arch}`;
      const copy = tool("skopeo", ["copy", "--src-tls-verify=false", "--override-arch", arch, `docker://${name}`, `dir:${dir}`]);
      expect(copy.code).toBe(0);
      const manifest = JSON.parse(readFileSync(`${dir}/manifest.json`, "utf8")) as { layers: Array<{ digest: string }> };
      const last = manifest.layers.at(-1)?.digest.slice(7) as string;
      mkdirSync(`${dir}/fs`);
      expect(tool("tar", ["xzf", `${dir}/${last}`, "-C", `${dir}/fs`]).code).toBe(0);
      expect(readFileSync(`${dir}/fs/arch.txt`, "utf8").trim()).toBe(arch);
    }
  }, 180_000);

  test("-t keeps the index in the image store; FROM it picks each platform's image", async () => {
    const work = tempDir();
    const root = `${work}/root`;
    const kept = await kitbuild(["build", "-q", "--platform", PLATFORMS, "-t", "multi-kept:1", archContext()], root);
    expectExit(kept, 0);
    const listed = await kitbuild(["images", "--no-trunc", "--format", "json"], root);
    expectExit(listed, 0);
    expect(listed.stdout).toContain(kept.stdout.trim());
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, ["FROM multi-kept:1", "COPY <<EOF /next.txt", "next", "EOF", ""].join("\n"));
    const res = await kitbuild(["build", "--progress=plain", "--platform", PLATFORMS, "-o", `${work}/out`, ctx], root);
    expectExit(res, 0);
    for (const arch of [HOST_ARCH, OTHER_ARCH]) {
      expect(readFileSync(`${work}/out/linux_${arch}/arch.txt`, "utf8").trim()).toBe(arch);
      expect(readFileSync(`${work}/out/linux_${arch}/next.txt`, "utf8")).toBe("next\n");
    }
    expect(res.stderr).toContain(`[linux/${OTHER_ARCH} internal] load metadata for docker.io/library/multi-kept:1`);
    // The host's platform alone, by default.
    const host = await kitbuild(["build", "--progress=plain", "-o", `${work}/host`, ctx], root);
    expectExit(host, 0);
    expect(readFileSync(`${work}/host/arch.txt`, "utf8").trim()).toBe(HOST_ARCH);
  }, 180_000);

  test("a FROM --platform=$BUILDPLATFORM stage both targets copy from runs once", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, [
      `FROM --platform=$BUILDPLATFORM ${registry}/busybox AS builder`,
      "RUN uname -m > /built-on && echo compiled > /tool",
      "FROM scratch",
      "ARG TARGETARCH",
      "COPY --from=builder /built-on /tool /",
      "COPY <<EOF /arch.txt",
      "${TARGETARCH}",
      "EOF",
      "",
    ].join("\n"));
    const work = tempDir();
    const res = await kitbuild(["build", "--progress=plain", "--platform", PLATFORMS, "-o", `${work}/out`, ctx], `${work}/root`);
    expectExit(res, 0);
    const hostMachine = tool("uname", ["-m"]).out.trim();
    for (const arch of [HOST_ARCH, OTHER_ARCH]) {
      expect(readFileSync(`${work}/out/linux_${arch}/built-on`, "utf8").trim()).toBe(hostMachine);
      expect(readFileSync(`${work}/out/linux_${arch}/arch.txt`, "utf8").trim()).toBe(arch);
    }
    expect(stepIds(res.stderr, "RUN uname -m > /built-on").size).toBe(1);
    expect(res.stderr).toContain(`[linux/${HOST_ARCH} builder 2/2] RUN uname -m > /built-on`);
  }, 180_000);

  test("issue 18's check: RUN uname -m under two platforms, pushed as one index, gives each platform's machine", async () => {
    const multi = await multiPlatformBusybox(registry);
    if (skipBecause(multi.kind !== "ready", `the multi-platform busybox: ${multi.kind === "unavailable" ? multi.reason : ""}`)) return;
    if (multi.kind !== "ready") return;
    const foreign = multi.platforms.find((p) => p.platform.startsWith("linux/arm64"));
    if (skipBecause(HOST_ARCH !== "amd64" || !foreign, "the uname -m check builds linux/amd64 and linux/arm64 on an amd64 host")) return;
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, [`FROM ${multi.ref}`, "RUN uname -m > /machine", ""].join("\n"));
    const work = tempDir();
    const name = `${registry}/multi-platform:uname`;
    const res = await kitbuild(["build", "--progress=plain", "--platform", "linux/amd64,linux/arm64", "--push", "-t", name, ctx], `${work}/root`);
    expectExit(res, 0);
    const raw = tool("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${name}`]);
    expect(raw.code).toBe(0);
    const index = JSON.parse(raw.out) as IndexDoc;
    expect(index.manifests.filter((m) => m.platform?.os === "linux").map((m) => m.platform?.architecture)).toEqual(["amd64", "arm64"]);
    for (const [arch, machine] of [["amd64", "x86_64"], ["arm64", "aarch64"]] as const) {
      const dir = `${work}/${arch}`;
      expect(tool("skopeo", ["copy", "--src-tls-verify=false", "--override-arch", arch, `docker://${name}`, `dir:${dir}`]).code).toBe(0);
      const manifest = JSON.parse(readFileSync(`${dir}/manifest.json`, "utf8")) as { layers: Array<{ digest: string }> };
      mkdirSync(`${dir}/fs`);
      expect(tool("tar", ["xzf", `${dir}/${manifest.layers.at(-1)?.digest.slice(7)}`, "-C", `${dir}/fs`]).code).toBe(0);
      expect(readFileSync(`${dir}/fs/machine`, "utf8").trim()).toBe(machine);
    }
    expect(res.stderr).toContain("[linux/arm64 2/2] RUN uname -m > /machine");
  }, 300_000);

  test("a mode=min cache export carries every platform's steps: a fresh cache root finds both", async () => {
    const work = tempDir();
    const ctx = archContext();
    const first = await kitbuild(["build", "--progress=plain", "--platform", PLATFORMS, "--cache-to", `type=local,dest=${work}/cache,mode=min`, "-o", `${work}/a`, ctx], `${work}/root-a`);
    expectExit(first, 0);
    const second = await kitbuild(["build", "--progress=plain", "--platform", PLATFORMS, "--cache-from", `type=local,src=${work}/cache`, "-o", `${work}/b`, ctx], `${work}/root-b`);
    expectExit(second, 0);
    for (const arch of [HOST_ARCH, OTHER_ARCH]) {
      expect(readFileSync(`${work}/b/linux_${arch}/arch.txt`, "utf8").trim()).toBe(arch);
      // Each platform's last step came from the cache, not from running it again.
      const id = [...stepIds(second.stderr, `[linux/${arch} 2/2] COPY <<EOF /arch.txt`)][0];
      expect(second.stderr).toContain(`#${id} CACHED`);
    }
  }, 180_000);

  test("--load of each single-platform variant (the foreign one built under emulation) gives podman an image of that architecture", async () => {
    const podman = Bun.which("podman");
    if (skipBecause(podman === null, "the podman --load check: podman is not installed (Debian package podman)")) return;
    const multi = await multiPlatformBusybox(registry);
    if (skipBecause(multi.kind !== "ready", `the multi-platform busybox: ${multi.kind === "unavailable" ? multi.reason : ""}`)) return;
    if (multi.kind !== "ready") return;
    const work = tempDir();
    // A podman of this test's own storage, on a PATH without docker (as test/e2e/load.test.ts).
    const store = `${work}/podman`;
    mkdirSync(`${store}/bin`, { recursive: true });
    const flags = [`--root ${store}/root`, `--runroot ${store}/run`, `--tmpdir ${store}/tmp`, "--storage-driver vfs", "--cgroup-manager cgroupfs", "--events-backend file"];
    writeFileSync(`${store}/bin/podman`, `#!/bin/sh\nexec ${podman} ${flags.join(" ")} "$@"\n`, { mode: 0o755 });
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, [`FROM ${multi.ref}`, "RUN uname -m > /machine", ""].join("\n"));
    for (const arch of [HOST_ARCH, OTHER_ARCH]) {
      const res = await runKitbuild(["build", "--progress=plain", "--network=none", "--platform", `linux/${arch}`, "--load", "-t", `mp-load-${arch}:1`, ctx], {
        env: { KITBUILD_ROOT: `${work}/root`, KITBUILD_RUNC_ROOT: `${work}/runc`, PATH: `${store}/bin:/usr/sbin:/sbin` },
      });
      expectExit(res, 0);
      expect(res.stderr).toContain("loading image into podman");
      const inspect = tool(`${store}/bin/podman`, ["image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", `docker.io/library/mp-load-${arch}:1`]);
      expect(inspect.code).toBe(0);
      expect(inspect.out.trim()).toBe(`linux/${arch}`);
    }
  }, 300_000);

  test("--load of two platforms is buildx's error; bad --platform values exit 2", async () => {
    const work = tempDir();
    const load = await kitbuild(["build", "--platform", PLATFORMS, "--load", archContext()], `${work}/root`);
    expectExit(load, 2);
    expect(load.stderr).toContain("docker exporter does not currently support exporting manifest lists");
    for (const bad of ["linux/", "foo", "linux/arm64/v8/x", "linux/am d64"]) {
      const res = await kitbuild(["build", "--platform", bad, "-o", `${work}/out`, archContext()], `${work}/root`);
      expectExit(res, 2);
      expect(res.stderr).toContain(`invalid platform "${bad}"`);
    }
    for (const flags of [["--platform", "linux/amd64,linux/amd64"], ["--platform", "local"]]) {
      const res = await kitbuild(["build", "--progress=plain", ...flags, "-o", `${work}/one`, archContext()], `${work}/root`);
      expectExit(res, 0);
      // One platform: no split directory, as today.
      expect(existsSync(`${work}/one/arch.txt`)).toBe(true);
    }
  }, 120_000);

  test("debug llb with two platforms: one graph, a root per platform; aliases normalized", async () => {
    const work = tempDir();
    const res = await kitbuild(["debug", "llb", "--platform", `linux/${HOST_ARCH}`, "--platform", OTHER_ARCH === "arm64" ? "linux/aarch64" : "linux/x86_64", archContext()], `${work}/root`);
    expectExit(res, 0);
    const doc = JSON.parse(res.stdout) as { root: unknown; platforms: Record<string, { digest: string }>; vertices: Array<{ digest: string; name?: string }> };
    expect(Object.keys(doc.platforms)).toEqual([`linux/${HOST_ARCH}`, `linux/${OTHER_ARCH}`]);
    const roots = Object.values(doc.platforms).map((r) => r.digest);
    expect(new Set(roots).size).toBe(2);
    for (const r of roots) expect(doc.vertices.some((v) => v.digest === r)).toBe(true);
    // The context source and the shared COPY appear once.
    expect(doc.vertices.filter((v) => v.name === "[internal] load build context")).toHaveLength(1);
    expect(doc.vertices.filter((v) => v.name?.endsWith("COPY hello.txt /"))).toHaveLength(1);

    const config = await kitbuild(["debug", "image-config", "--platform", PLATFORMS, archContext()], `${work}/root`);
    expectExit(config, 0);
    const configs = JSON.parse(config.stdout) as Record<string, { architecture: string; history: Array<{ created_by: string }> }>;
    expect(Object.keys(configs)).toEqual([`linux/${HOST_ARCH}`, `linux/${OTHER_ARCH}`]);
    for (const arch of [HOST_ARCH, OTHER_ARCH]) {
      expect(configs[`linux/${arch}`]?.architecture).toBe(arch);
      expect(configs[`linux/${arch}`]?.history[0]?.created_by).toBe(`ARG TARGETARCH=${arch}`);
    }
  }, 60_000);
});

/** The plain progress's "#N" ids of the steps whose name contains `text`. */
function stepIds(plain: string, text: string): Set<string> {
  const ids = new Set<string>();
  for (const line of plain.split("\n")) {
    const m = /^#(\d+) (.*)$/.exec(line);
    if (m && m[2]?.includes(text)) ids.add(m[1] as string);
  }
  return ids;
}
