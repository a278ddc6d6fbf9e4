// `--load` through the compiled binary: into podman when docker is not on PATH (a podman with a
// storage of this test's own, through a wrapper named podman on the PATH kitbuild gets), the error
// naming both tools when neither is there, and `type=docker,context=NAME` reaching docker's
// `--context`. Needs root, runc and podman (Debian's podman, scripts/setup.sh installs it).
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { expectExit, HAS_RUNC, helloContext, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

const PODMAN = Bun.which("podman");
const DOCKER = Bun.which("docker");
const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `--load tests: ${NEEDS_ROOT_AND_RUNC}`);
const skipPodman = skip || skipBecause(PODMAN === null, "the podman --load test: podman is not installed (Debian package podman)");
const skipDocker = skip || skipBecause(DOCKER === null, "the docker context test: docker is not installed (Debian package docker.io)");

// runc lives in /usr/sbin: a PATH of this directory and /usr/sbin has neither docker nor podman
// (both are in /usr/bin or /usr/local/bin), and a build without RUN steps needs nothing else.
const SBIN = "/usr/sbin:/sbin";

/** A directory holding a `podman` that keeps its images under `store` (never /var/lib/containers). */
function podmanWrapper(store: string): string {
  const bin = `${store}/bin`;
  mkdirSync(bin, { recursive: true });
  const args = [`--root ${store}/root`, `--runroot ${store}/run`, `--tmpdir ${store}/tmp`, "--storage-driver vfs", "--cgroup-manager cgroupfs", "--events-backend file"];
  writeFileSync(`${bin}/podman`, `#!/bin/sh\nexec ${PODMAN} ${args.join(" ")} "$@"\n`);
  chmodSync(`${bin}/podman`, 0o755);
  return bin;
}

describe.skipIf(skip)("--load (compiled binary)", () => {
  test.skipIf(skipPodman)("without docker on PATH, --load loads into podman and says so", async () => {
    const registry = await testRegistry();
    const work = tempDir();
    const bin = podmanWrapper(`${work}/podman`);
    const ctx = helloContext(`${registry}/busybox`);
    const res = await runKitbuild(["build", "--progress=plain", "--load", "-t", "kitbuild-load-test:1", "--iidfile", `${work}/iid`, ctx], {
      env: { KITBUILD_ROOT: `${work}/root`, PATH: `${bin}:${SBIN}` },
      timeoutMs: 300_000,
    });
    expectExit(res, 0);
    expect(res.stderr).toContain("loading image into podman");
    expect(res.stderr).not.toContain("loading image into docker");
    const id = readFileSync(`${work}/iid`, "utf8").trim();
    const inspect = spawnSync(`${bin}/podman`, ["image", "inspect", "--format", "{{.Id}}", "kitbuild-load-test:1"], { encoding: "utf8" });
    expect(inspect.status, inspect.stderr).toBe(0);
    expect(`sha256:${inspect.stdout.trim()}`).toBe(id);
    const cat = spawnSync(`${bin}/podman`, ["image", "inspect", "--format", "{{.RepoTags}}", "kitbuild-load-test:1"], { encoding: "utf8" });
    expect(cat.stdout).toContain("kitbuild-load-test:1");
  }, 360_000);

  test.skipIf(skipPodman)("context= with podman alone is refused, naming docker", async () => {
    const registry = await testRegistry();
    const work = tempDir();
    const bin = podmanWrapper(`${work}/podman`);
    const res = await runKitbuild(["build", "--progress=plain", "-o", "type=docker,context=other", "-t", "x", helloContext(`${registry}/busybox`)], {
      env: { KITBUILD_ROOT: `${work}/root`, PATH: `${bin}:${SBIN}` },
      timeoutMs: 300_000,
    });
    expectExit(res, 1);
    expect(res.stderr).toContain("context=other needs the docker command");
    expect(res.stderr).not.toContain("    at ");
  }, 360_000);

  test("neither docker nor podman on PATH: an error naming both", async () => {
    const registry = await testRegistry();
    const work = tempDir();
    const res = await runKitbuild(["build", "--progress=plain", "--load", "-t", "x", helloContext(`${registry}/busybox`)], {
      env: { KITBUILD_ROOT: `${work}/root`, PATH: SBIN },
      timeoutMs: 300_000,
    });
    expectExit(res, 1);
    expect(res.stderr).toContain("--load needs the docker or podman command, and neither was found on PATH");
    expect(res.stderr).not.toContain("    at ");
  }, 360_000);

  test.skipIf(skipDocker)("type=docker,context=NAME loads through that docker context", async () => {
    // A context whose endpoint is a socket nobody serves: docker's own error names that endpoint,
    // which shows the load went through the context (no daemon is needed to tell).
    const registry = await testRegistry();
    const work = tempDir();
    const config = `${work}/docker-config`;
    const socket = `${work}/nobody-here.sock`;
    const made = spawnSync(DOCKER as string, ["context", "create", "kitbuild-test", "--docker", `host=unix://${socket}`], { encoding: "utf8", env: { ...process.env, DOCKER_CONFIG: config } });
    expect(made.status, made.stderr).toBe(0);
    const res = await runKitbuild(["build", "--progress=plain", "-o", "type=docker,context=kitbuild-test", "-t", "x", helloContext(`${registry}/busybox`)], {
      env: { KITBUILD_ROOT: `${work}/root`, DOCKER_CONFIG: config },
      timeoutMs: 300_000,
    });
    expectExit(res, 1);
    expect(res.stderr).toContain("docker load failed");
    expect(res.stderr).toContain(socket);
  }, 360_000);

  test("context= together with dest= is a usage error", async () => {
    const res = await runKitbuild(["build", "-o", "type=docker,dest=x.tar,context=a", "."]);
    expectExit(res, 2);
    expect(res.stderr).toContain("has both dest and context");
  });
});
