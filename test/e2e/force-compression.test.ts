// force-compression as BuildKit applies it: base layers already in the compression asked for are
// kept exactly as pulled; only layers in another compression are converted. Needs root and runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry, expectExit } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `force-compression tests: ${NEEDS_ROOT_AND_RUNC}`);

let registry = "";
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
}, 60_000);

function skopeo(args: string[]): string {
  const res = spawnSync("skopeo", args, { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`skopeo ${args.join(" ")}: ${res.stderr}`);
  return res.stdout;
}

const layersOf = (tar: string) => (JSON.parse(skopeo(["inspect", `oci-archive:${tar}`])) as { Layers: string[] }).Layers;

describe.skipIf(skip)("force-compression (compiled binary)", () => {
  test("gzip forced keeps the pulled gzip base layer; uncompressed forced converts it", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nRUN echo built > /built.txt\n`);
    const work = tempDir();
    const root = `${work}/root`;
    const build = (args: string[]) => runKitbuild(["build", "--progress=plain", ...args, ctx], { env: { KITBUILD_ROOT: root } });
    const base = (JSON.parse(skopeo(["inspect", "--tls-verify=false", `docker://${registry}/busybox`])) as { Layers: string[] }).Layers;
    expectExit(await build(["-o", `type=oci,dest=${work}/plain.tar`]), 0);
    expectExit(await build(["-o", `type=oci,dest=${work}/gzip.tar,compression=gzip,force-compression=true`]), 0);
    expect(layersOf(`${work}/gzip.tar`)).toEqual(layersOf(`${work}/plain.tar`));
    expect(layersOf(`${work}/gzip.tar`)[0]).toBe(base[0]);
    expectExit(await build(["-o", `type=oci,dest=${work}/raw.tar,compression=uncompressed,force-compression=true`]), 0);
    const raw = JSON.parse(skopeo(["inspect", "--raw", `oci-archive:${work}/raw.tar`])) as { layers: Array<{ mediaType: string; digest: string }> };
    expect(new Set(raw.layers.map((l) => l.mediaType))).toEqual(new Set(["application/vnd.oci.image.layer.v1.tar"]));
    // Converted, not diffed again: the base layer's bytes are the pulled layer's, so its DiffID (an
    // uncompressed layer's digest) is the one the unforced image's config lists, and so is the image ID.
    const config = (tar: string) => JSON.parse(skopeo(["inspect", "--config", `oci-archive:${tar}`])) as { rootfs: { diff_ids: string[] } };
    expect(raw.layers[0]?.digest).toBe(config(`${work}/plain.tar`).rootfs.diff_ids[0] as string);
    expect(config(`${work}/raw.tar`).rootfs.diff_ids).toEqual(config(`${work}/plain.tar`).rootfs.diff_ids);
  }, 120_000);
});
