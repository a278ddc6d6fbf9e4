// `kitbuild debug image-config` through the compiled binary: before a build it prints what it can
// (the base image's diff_ids) and names on stderr what it cannot (the new layers' diff_ids, created
// without SOURCE_DATE_EPOCH); once the build is in the cache it prints the very config the build
// writes. Needs root and runc.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { expectExit, HAS_RUNC, helloContext, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `debug image-config tests: ${NEEDS_ROOT_AND_RUNC}`);

type Config = { created?: string; rootfs: { diff_ids: string[] }; history: { created?: string; created_by?: string; empty_layer?: boolean }[] };

/** The config of the one image in an OCI archive, read with tar. */
function ociConfig(archive: string): Config {
  const dir = tempDir("kitbuild-oci-");
  mkdirSync(dir, { recursive: true });
  expect(spawnSync("tar", ["-xf", archive, "-C", dir]).status).toBe(0);
  const blob = (digest: string) => readFileSync(`${dir}/blobs/${digest.replace(":", "/")}`, "utf8");
  const index = JSON.parse(readFileSync(`${dir}/index.json`, "utf8")) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(blob(index.manifests[0]?.digest as string)) as { config: { digest: string } };
  return JSON.parse(blob(manifest.config.digest)) as Config;
}

describe.skipIf(skip)("debug image-config (compiled binary)", () => {
  test("before the build: the base's diff_ids, and stderr names the new layer and created", async () => {
    const registry = await testRegistry();
    const work = tempDir();
    const ctx = helloContext(`${registry}/busybox`);
    const res = await runKitbuild(["debug", "image-config", ctx], { env: { KITBUILD_ROOT: `${work}/root` }, timeoutMs: 300_000 });
    expectExit(res, 0);
    const config = JSON.parse(res.stdout) as Config;
    const manifest = await (await fetch(`http://${registry}/v2/busybox/manifests/latest`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" } })).json() as { config: { digest: string } };
    const base = await (await fetch(`http://${registry}/v2/busybox/blobs/${manifest.config.digest}`)).json() as Config;
    expect(config.rootfs.diff_ids).toEqual(base.rootfs.diff_ids);
    expect(config.created).toBeUndefined();
    expect(res.stderr).toContain("not known without running the build");
    expect(res.stderr).toContain(`rootfs.diff_ids: the last 1 of ${base.rootfs.diff_ids.length + 1}`);
    expect(res.stderr).toContain("COPY hello.txt /hello.txt is not in the cache");
    expect(res.stderr).toContain("created (and the times of the history entries this build adds)");
  }, 600_000);

  test("once built: the config the build wrote, field for field; without SOURCE_DATE_EPOCH all but created", async () => {
    const registry = await testRegistry();
    const work = tempDir();
    const ctx = helloContext(`${registry}/busybox`);
    const env = { KITBUILD_ROOT: `${work}/root`, SOURCE_DATE_EPOCH: "1700000000" };
    const built = await runKitbuild(["build", "--progress=plain", "-o", `type=oci,dest=${work}/image.tar`, ctx], { env, timeoutMs: 300_000 });
    expectExit(built, 0);
    const written = ociConfig(`${work}/image.tar`);

    const res = await runKitbuild(["debug", "image-config", ctx], { env, timeoutMs: 300_000 });
    expectExit(res, 0);
    expect(res.stderr).toBe("");
    expect(JSON.parse(res.stdout)).toEqual(written);

    const noEpoch = await runKitbuild(["debug", "image-config", ctx], { env: { KITBUILD_ROOT: `${work}/root` }, timeoutMs: 300_000 });
    expectExit(noEpoch, 0);
    const config = JSON.parse(noEpoch.stdout) as Config;
    expect(config.rootfs.diff_ids).toEqual(written.rootfs.diff_ids);
    expect(config.created).toBeUndefined();
    expect(noEpoch.stderr).toContain("created (and the times of the history entries this build adds)");
    expect(noEpoch.stderr).not.toContain("rootfs.diff_ids");
  }, 600_000);
});
