// Base images per platform on the compiled binary, as BuildKit treats them: an index without the
// platform asked for fails the build with BuildKit's words (the hint names the platform and what
// the index has); a single-platform base of another architecture, or an index whose only match is
// containerd's fallback to another architecture (386 for amd64), gives BuildKit's
// InvalidBaseImagePlatform warning and the build goes on with that image. The "foreign" images
// here hold the host's busybox under another config platform, so their RUN steps run natively.
// Needs root and runc (builds with RUN steps).
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { busyboxImage, pushImage } from "../../scripts/test-env.ts";
import { formatPlatform, hostPlatform } from "../../src/oci/platform.ts";
import { expectExit, IS_ROOT, HAS_RUNC, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `base image platforms: ${NEEDS_ROOT_AND_RUNC}`);
const host = hostPlatform();
/** An architecture that is not the host's, for the single-platform image. */
const other = host.architecture === "arm64" ? "amd64" : "arm64";
const lower = host.architecture === "amd64" ? "386" : undefined;

let registry = "";

/** Pushes the host's busybox under `repo:latest` with its config saying `architecture`; returns the manifest digest. */
async function pushAs(repo: string, architecture: string): Promise<{ digest: string; size: number }> {
  const image = await busyboxImage();
  const config = { ...image.config, architecture };
  const digest = await pushImage(registry, repo, "latest", { ...image, config });
  const res = await fetch(`http://${registry}/v2/${repo}/manifests/${digest}`, { method: "HEAD", headers: { Accept: "application/vnd.oci.image.manifest.v1+json" } });
  return { digest, size: Number(res.headers.get("content-length")) };
}

/** Pushes an OCI index of `entries` (manifests already in `repo`) under `repo:latest`. */
async function pushIndexOf(repo: string, entries: Array<{ digest: string; size: number; architecture: string }>): Promise<void> {
  const mediaType = "application/vnd.oci.image.index.v1+json";
  const manifests = entries.map((e) => ({ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: e.digest, size: e.size, platform: { os: "linux", architecture: e.architecture } }));
  const res = await fetch(`http://${registry}/v2/${repo}/manifests/latest`, { method: "PUT", headers: { "Content-Type": mediaType }, body: JSON.stringify({ schemaVersion: 2, mediaType, manifests }) });
  if (res.status !== 201) throw new Error(`index push failed: ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  if (skip) return;
  registry = await testRegistry();
  await pushAs("single-other", other);
  const s390x = await pushAs("only-s390x", "s390x");
  await pushIndexOf("only-s390x", [{ ...s390x, architecture: "s390x" }]);
  if (lower) {
    const img = await pushAs("only-386", lower);
    await pushIndexOf("only-386", [{ ...img, architecture: lower }]);
  }
}, 120_000);

function build(dockerfile: string, extra: string[] = []) {
  const ctx = tempDir("kitbuild-ctx-");
  writeFileSync(`${ctx}/Dockerfile`, dockerfile);
  const out = tempDir("kitbuild-out-");
  const run = runKitbuild(["build", "--progress=plain", "-o", `type=local,dest=${out}`, ...extra, ctx], { env: { KITBUILD_ROOT: tempDir("kitbuild-root-") }, timeoutMs: 300_000 });
  return run.then((res) => ({ ...res, out }));
}

describe.skipIf(skip)("base images per platform (compiled binary)", () => {
  test("an index without the platform: BuildKit's error at the FROM line, the hint naming the platform and what there is", async () => {
    const res = await build(`FROM ${registry}/only-s390x\nRUN true\n`);
    expectExit(res, 1);
    expect(res.stderr).toMatch(new RegExp(`failed to resolve source metadata for ${registry.replace(/\./g, "\\.")}/only-s390x:latest: no match for platform in manifest sha256:[0-9a-f]{64}: not found`));
    expect(res.stderr).toContain(`has no image for ${formatPlatform(host)} (it has linux/s390x)`);
    expect(res.stderr).toContain(">>> FROM");
    expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 300_000);

  test("a single-platform base of another architecture: InvalidBaseImagePlatform, and the build goes on with it", async () => {
    const res = await build(`FROM ${registry}/single-other\nRUN echo ran > /ran\n`);
    expectExit(res, 0);
    const warning = `InvalidBaseImagePlatform: Base image ${registry}/single-other was pulled with platform "linux/${other}", expected "${formatPlatform(host)}" for current build (line 1)`;
    expect(res.stderr).toContain(warning);
    expect(res.stderr).toContain("1 warning found");
    expect(readFileSync(`${res.out}/ran`, "utf8")).toBe("ran\n");
  }, 300_000);

  test("FROM --platform asks for that platform: the same image then gives no warning", async () => {
    const res = await build(`FROM --platform=linux/${other} ${registry}/single-other AS base\nFROM scratch\nCOPY --from=base /bin/busybox /busybox\n`);
    expectExit(res, 0);
    expect(res.stderr).not.toContain("InvalidBaseImagePlatform");
    expect(readFileSync(`${res.out}/busybox`).length).toBeGreaterThan(0);
  }, 300_000);

  test("several platforms: the $BUILDPLATFORM stage's base is judged against the build platform, and warned about once (as BuildKit, the first platform's checks)", async () => {
    const dockerfile = `FROM --platform=$BUILDPLATFORM ${registry}/single-other AS tools\nRUN echo ran > /ran\nFROM scratch\nCOPY --from=tools /ran /ran\n`;
    const res = await build(dockerfile, ["--platform", `linux/${other},${formatPlatform(host)}`]);
    expectExit(res, 0);
    const warning = `InvalidBaseImagePlatform: Base image ${registry}/single-other was pulled with platform "linux/${other}", expected "${formatPlatform(host)}" for current build (line 1)`;
    // Once in the progress (WARN:) and once in buildx's summary block, as for one platform.
    expect(res.stderr.split(warning).length - 1).toBe(2);
    expect(res.stderr).toContain(`1 warning found (use docker --debug to expand):\n - ${warning}\n`);
    for (const dir of [`linux_${other}`, formatPlatform(host).replaceAll("/", "_")]) expect(readFileSync(`${res.out}/${dir}/ran`, "utf8")).toBe("ran\n");
  }, 300_000);

  test.skipIf(skipBecause(lower === undefined, "the 386 fallback is amd64's; this host is not amd64"))("an index whose only match is containerd's fallback (386 for amd64) is used, with the warning", async () => {
    const res = await build(`FROM ${registry}/only-386\nRUN echo ran > /ran\n`);
    expectExit(res, 0);
    expect(res.stderr).toContain(`InvalidBaseImagePlatform: Base image ${registry}/only-386 was pulled with platform "linux/386", expected "linux/amd64" for current build (line 1)`);
    expect(readFileSync(`${res.out}/ran`, "utf8")).toBe("ran\n");
  }, 300_000);
});
