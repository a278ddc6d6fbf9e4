// The multi-platform busybox fixture: one OCI index in the test registry listing the host's image,
// linux/arm64/v8 and linux/arm/v7, each config naming its platform and each image's busybox built
// for it (run through qemu-user-static, as the emulation tests do). Reads the registry with skopeo,
// not kitbuild's registry code. Needs the Debian archive (or the cache) for the foreign packages.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { gunzipSync } from "node:zlib";
import { foreignBusyboxBinaries, FOREIGN_ARCHES } from "../../scripts/foreign-busybox.ts";
import { hostArch } from "../../scripts/test-env.ts";
import { multiPlatformBusybox } from "../fixtures/foreign-images.ts";
import { skipBecause, testRegistry } from "../harness.ts";

const registry = await testRegistry();
const multi = await multiPlatformBusybox(registry);
const skip = skipBecause(multi.kind !== "ready", `multi-platform busybox: ${multi.kind === "unavailable" ? multi.reason : ""}`);
const noSkopeo = skipBecause(!Bun.which("skopeo"), "skopeo is not installed (scripts/setup.sh installs it)");

type Descriptor = { digest: string; mediaType: string; platform?: { os: string; architecture: string; variant?: string } };

function skopeoRaw(ref: string): Record<string, unknown> {
  const res = spawnSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`skopeo inspect ${ref}: ${res.stderr}`);
  return JSON.parse(res.stdout) as Record<string, unknown>;
}

async function blob(repoRef: string, digest: string): Promise<Uint8Array> {
  const res = await fetch(`http://${registry}/v2/${repoRef}/blobs/${digest}`);
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

describe.skipIf(skip || noSkopeo)("multi-platform busybox fixture", () => {
  test("the registry holds one index with the host's, arm64/v8 and arm/v7 images, each config naming its platform", async () => {
    if (multi.kind !== "ready") return;
    const index = skopeoRaw(multi.ref);
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    const manifests = index.manifests as Descriptor[];
    const platforms = manifests.map((m) => [m.platform?.os, m.platform?.architecture, m.platform?.variant].filter(Boolean).join("/"));
    const expected = [`linux/${hostArch()}`, ...FOREIGN_ARCHES.filter((a) => a.architecture !== hostArch()).map((a) => `linux/${a.architecture}/${a.variant}`)];
    expect(platforms.sort()).toEqual(expected.sort());
    expect(multi.platforms.map((p) => p.platform).sort()).toEqual(expected.sort());
    for (const m of manifests) {
      const manifest = skopeoRaw(`${registry}/busybox-multi@${m.digest}`) as { config: { digest: string } };
      const config = JSON.parse(new TextDecoder().decode(await blob("busybox-multi", manifest.config.digest))) as Record<string, unknown>;
      expect(config.os).toBe(m.platform?.os);
      expect(config.architecture).toBe(m.platform?.architecture);
      expect(config.variant).toBe(m.platform?.variant);
    }
  }, 120_000);

  test("each foreign image's busybox is built for its architecture (run through qemu-user-static)", async () => {
    if (multi.kind !== "ready") return;
    const got = foreignBusyboxBinaries();
    if (got.kind !== "ready") throw new Error(got.reason);
    for (const arch of FOREIGN_ARCHES.filter((a) => a.architecture !== hostArch())) {
      const qemu = `/usr/bin/qemu-${arch.uname === "armv7l" ? "arm" : arch.uname}-static`;
      if (skipBecause(!Bun.which(qemu), `${qemu} is missing (apt-get install qemu-user-static)`)) continue;
      const res = spawnSync(qemu, [got.binaries.get(arch.debian) as string, "uname", "-m"], { encoding: "utf8" });
      expect(res.stdout.trim()).toBe(arch.uname);
      // The pushed layer holds that same binary as bin/busybox.
      const manifestDigest = (skopeoRaw(multi.ref).manifests as Descriptor[]).find((m) => m.platform?.architecture === arch.architecture)?.digest;
      const manifest = skopeoRaw(`${registry}/busybox-multi@${manifestDigest}`) as { layers: Array<{ digest: string }> };
      const layer = gunzipSync(await blob("busybox-multi", manifest.layers[0]?.digest as string));
      const binary = await Bun.file(got.binaries.get(arch.debian) as string).bytes();
      expect(Buffer.from(layer).includes(Buffer.from(binary.subarray(0, 4096)))).toBe(true);
    }
  }, 120_000);
});
