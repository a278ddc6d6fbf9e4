// Attestations written as files and the SBOM (compiled binary): type=local and type=tar write
// provenance.json and sbom.spdx.json (in-toto statements whose subjects are the output's files);
// the SBOM of a Debian-based image lists its dpkg packages with the versions dpkg-query reports
// in that image; a docker archive with attestations still loads with `docker load`. Needs root
// (builds need root); the Debian test also runc and the Debian test image.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { debianImage } from "../../scripts/test-debian.ts";
import { dockerDaemon, dockerUnavailable } from "../fixtures/docker-daemon.ts";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT, NEEDS_ROOT_AND_RUNC, expectExit, helloContext, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

const skip = skipBecause(!IS_ROOT, `attestation files: ${NEEDS_ROOT}`);
const registry = skip ? "" : await testRegistry();
const skipRun = skip || skipBecause(!HAS_RUNC, `the Debian SBOM test: ${NEEDS_ROOT_AND_RUNC}`);
const debian = skipRun ? undefined : await debianImage(registry);
const skipDebian = skipRun || skipBecause(debian?.kind !== "ready", `the Debian SBOM test: no Debian image (${debian?.kind === "unavailable" ? debian.reason : "skipped"})`);
const noDocker = dockerUnavailable();
const skipDocker = skip || skipBecause(noDocker !== undefined, `the docker load test: ${noDocker}`);
const daemon = skipDocker ? undefined : await dockerDaemon();
afterAll(async () => {
  if (daemon && "stop" in daemon) await daemon.stop();
});
const TIMEOUT = 300_000;

type Statement = { _type: string; predicateType: string; subject: Array<{ name: string; digest: { sha256: string } }>; predicate: Record<string, any> };

function build(args: string[], work: string) {
  return runKitbuild(["build", "--progress=plain", ...args], { env: { KITBUILD_ROOT: `${work}/root` } });
}

describe.skipIf(skip)("attestations as files (compiled binary)", () => {
  test("type=local and type=tar write provenance.json and sbom.spdx.json about the output's files", async () => {
    const work = tempDir();
    const ctx = helloContext(`${registry}/busybox`);
    expectExit(await build(["--provenance=true", "--sbom=true", "-o", `type=local,dest=${work}/out`, "-o", `type=tar,dest=${work}/out.tar`, ctx], work), 0);
    const prov = JSON.parse(readFileSync(`${work}/out/provenance.json`, "utf8")) as Statement;
    expect(prov.predicateType).toBe("https://slsa.dev/provenance/v0.2");
    const hello = prov.subject.find((s) => s.name === "hello.txt");
    expect(hello?.digest.sha256).toBe(createHash("sha256").update(readFileSync(`${work}/out/hello.txt`)).digest("hex"));
    expect(prov.subject.some((s) => s.name === "provenance.json")).toBe(false);
    const sbom = JSON.parse(readFileSync(`${work}/out/sbom.spdx.json`, "utf8")) as Statement;
    expect(sbom.predicateType).toBe("https://spdx.dev/Document");
    expect(sbom.predicate.spdxVersion).toBe("SPDX-2.3");
    mkdirSync(`${work}/untar`);
    expect(spawnSync("tar", ["-xf", `${work}/out.tar`, "-C", `${work}/untar`]).status).toBe(0);
    const fromTar = JSON.parse(readFileSync(`${work}/untar/provenance.json`, "utf8")) as Statement;
    expect(fromTar.subject).toEqual(prov.subject);
    expect(readFileSync(`${work}/untar/hello.txt`, "utf8")).toBe("hello\n");
    // inline-only provenance is for image outputs alone.
    expectExit(await build(["--attest", "type=provenance,inline-only=true", "-o", `type=local,dest=${work}/inline`, ctx], work), 0);
    expect(existsSync(`${work}/inline/hello.txt`)).toBe(true);
    expect(existsSync(`${work}/inline/provenance.json`)).toBe(false);
    expectExit(await build(["--provenance=version=v1", "-o", `type=local,dest=${work}/v1`, "--metadata-file", `${work}/meta.json`, ctx], work), 0);
    expect(JSON.parse(readFileSync(`${work}/meta.json`, "utf8"))["buildx.build.provenance"].buildDefinition.externalParameters.configSource).toEqual({ path: "Dockerfile" });
    const v1 = JSON.parse(readFileSync(`${work}/v1/provenance.json`, "utf8")) as Statement;
    expect(v1.predicateType).toBe("https://slsa.dev/provenance/v1");
    expect(v1.predicate.buildDefinition.resolvedDependencies).toContainEqual(expect.objectContaining({ uri: expect.stringContaining("busybox") }));
  }, TIMEOUT);

  test.skipIf(skipDocker)("a docker archive with attestations loads with docker load", async () => {
    if (!daemon || "unavailable" in daemon) throw new Error(`no docker daemon: ${daemon && "unavailable" in daemon ? daemon.unavailable : "not started"}`);
    const work = tempDir();
    const ctx = helloContext(`${registry}/busybox`);
    const name = `kitbuild-att-load:${process.pid}`;
    expectExit(await build(["--provenance=mode=max", "-t", name, "-o", `type=docker,dest=${work}/img.tar`, ctx], work), 0);
    const load = spawnSync(daemon.docker, ["load", "-i", `${work}/img.tar`], { encoding: "utf8" });
    expect(load.status, load.stderr).toBe(0);
    try {
      const run = spawnSync(daemon.docker, ["run", "--rm", name, "cat", "/hello.txt"], { encoding: "utf8" });
      expect(run.stdout).toBe("hello\n");
    } finally {
      spawnSync(daemon.docker, ["rmi", "-f", name]);
    }
  }, TIMEOUT);
});

describe.skipIf(skipDebian)("the SBOM of a Debian-based image", () => {
  test("lists the dpkg packages with the versions dpkg-query reports in the image", async () => {
    const ref = debian?.kind === "ready" ? debian.ref : "";
    const work = tempDir();
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${ref}\n`);
    expectExit(await build(["--sbom", "-o", `type=local,dest=${work}/out`, ctx], work), 0);
    const queryCtx = tempDir("kitbuild-ctx-");
    writeFileSync(`${queryCtx}/Dockerfile`, [`FROM ${ref} AS q`, "RUN dpkg-query -W -f '${Package} ${Version}\\n' > /packages.txt", "FROM scratch", "COPY --from=q /packages.txt /", ""].join("\n"));
    expectExit(await build(["-o", `type=local,dest=${work}/query`, queryCtx], work), 0);
    const expected = readFileSync(`${work}/query/packages.txt`, "utf8").trim().split("\n").sort();
    expect(expected.length).toBeGreaterThan(20);
    const sbom = JSON.parse(readFileSync(`${work}/out/sbom.spdx.json`, "utf8")) as Statement;
    const packages = (sbom.predicate.packages as Array<{ name: string; versionInfo?: string; externalRefs?: Array<{ referenceLocator: string }> }>)
      .filter((p) => p.externalRefs?.some((r) => r.referenceLocator.startsWith("pkg:deb/")))
      .map((p) => `${p.name} ${p.versionInfo}`);
    expect([...new Set(packages)].sort()).toEqual(expected);
  }, TIMEOUT);

  test("scan-stage: a built stage gets sbom-STAGE.spdx.json (by --attest scan-stage=true or the stage's ARG)", async () => {
    const ref = debian?.kind === "ready" ? debian.ref : "";
    const work = tempDir();
    const ctx = tempDir("kitbuild-ctx-");
    const dockerfile = (arg: string) => [`FROM ${ref} AS build`, arg, "RUN echo built > /built.txt", "FROM scratch", "COPY --from=build /built.txt /", ""].join("\n");
    writeFileSync(`${ctx}/Dockerfile`, dockerfile(""));
    const debPackages = (file: string) => {
      const st = JSON.parse(readFileSync(file, "utf8")) as Statement;
      return (st.predicate.packages as Array<{ externalRefs?: Array<{ referenceLocator: string }> }>).filter((p) => p.externalRefs?.some((r) => r.referenceLocator.startsWith("pkg:deb/"))).length;
    };
    const scanned = await build(["--attest", "type=sbom,scan-stage=true", "-o", `type=local,dest=${work}/a`, ctx], work);
    expectExit(scanned, 0);
    // The scanned stage is solved with the build: its step is one vertex, not solved again for the scan.
    const runVertices = new Set([...scanned.stderr.matchAll(/^#(\d+) \[build 2\/2\] RUN echo built/gm)].map((m) => m[1]));
    expect(runVertices.size).toBe(1);
    const [runId] = [...runVertices];
    expect(scanned.stderr).toContain(`#${runId} DONE`);
    expect(scanned.stderr).not.toContain(`#${runId} CACHED`);
    expect(debPackages(`${work}/a/sbom.spdx.json`)).toBe(0);
    expect(debPackages(`${work}/a/sbom-build.spdx.json`)).toBeGreaterThan(20);
    // Without scan-stage, only the stage that declares the ARG is scanned; a second build finds every step cached.
    expectExit(await build(["--sbom", "-o", `type=local,dest=${work}/b`, ctx], work), 0);
    expect(existsSync(`${work}/b/sbom-build.spdx.json`)).toBe(false);
    writeFileSync(`${ctx}/Dockerfile`, dockerfile("ARG BUILDKIT_SBOM_SCAN_STAGE=true"));
    const res = await build(["--sbom", "-o", `type=local,dest=${work}/c`, ctx], work);
    expectExit(res, 0);
    expect(debPackages(`${work}/c/sbom-build.spdx.json`)).toBeGreaterThan(20);
    expect(res.stderr).not.toContain("BUILDKIT_SBOM_SCAN_STAGE");
  }, TIMEOUT);
});
