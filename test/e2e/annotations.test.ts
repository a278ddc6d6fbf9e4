// Annotations (compiled binary): --annotation [TYPE:]KEY=VALUE and the annotation-* output
// attributes land on the manifest, the manifest's descriptor, the index and the index's descriptor
// in the layout's index.json as BuildKit places them; index annotations without an index are
// refused as BuildKit refuses them; a pushed index carries its annotations; bad types exit 2.
// Needs root (builds need root); no RUN step.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { IS_ROOT, NEEDS_ROOT, expectExit, helloContext, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

const skip = skipBecause(!IS_ROOT, `annotation builds: ${NEEDS_ROOT}`);
const TIMEOUT = 240_000;
let registry = "";
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
}, TIMEOUT);

type Desc = { mediaType: string; digest: string; annotations?: Record<string, string> };
type Doc = { manifests?: Desc[]; annotations?: Record<string, string> };

function build(args: string[], work: string) {
  return runKitbuild(["build", "--progress=plain", ...args], { env: { KITBUILD_ROOT: `${work}/root` } });
}

describe.skipIf(skip)("annotations (compiled binary)", () => {
  test("--annotation types and annotation-* attributes in an OCI layout with an index", async () => {
    const work = tempDir();
    const ctx = helloContext(`${registry}/busybox`);
    const res = await build([
      "--provenance=true",
      "--annotation", "org.example.plain=m",
      "--annotation", "index,manifest-descriptor:org.example.both=b",
      "-o", `type=oci,dest=${work}/layout,tar=false,annotation-index-descriptor.org.example.idesc=d,annotation-manifest.org.example.attr=a`,
      ctx,
    ], work);
    expectExit(res, 0);
    const blob = (d: string) => JSON.parse(readFileSync(`${work}/layout/blobs/sha256/${d.slice(7)}`, "utf8"));
    const top = JSON.parse(readFileSync(`${work}/layout/index.json`, "utf8")) as Doc;
    expect(top.manifests?.[0]?.annotations?.["org.example.idesc"]).toBe("d");
    const index = blob(top.manifests?.[0]?.digest as string) as Doc;
    expect(index.annotations).toEqual({ "org.example.both": "b" });
    const imageDesc = index.manifests?.[0] as Desc;
    expect(imageDesc.annotations).toEqual({ "org.example.both": "b" });
    const manifest = blob(imageDesc.digest) as Doc;
    expect(manifest.annotations).toEqual({ "org.example.plain": "m", "org.example.attr": "a" });
  }, TIMEOUT);

  test("index annotations need an index: refused for a lone manifest, carried by a pushed index", async () => {
    const work = tempDir();
    const ctx = helloContext(`${registry}/busybox`);
    const lone = await build(["--annotation", "index:org.example.i=1", "-o", `type=oci,dest=${work}/layout,tar=false`, ctx], work);
    expectExit(lone, 2);
    expect(lone.stderr).toContain("index annotations not supported for single platform export");
    const attr = await build(["-o", `type=oci,dest=${work}/layout,annotation-index-descriptor.k=v`, "--provenance=false", ctx], work);
    expectExit(attr, 2);
    // A push gets the default provenance, so an index that carries them.
    expectExit(await build(["--annotation", "index:org.example.i=2", "--push", "-t", `${registry}/annotated:1`, ctx], work), 0);
    const raw = spawnSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${registry}/annotated:1`], { encoding: "utf8" });
    expect(raw.status, raw.stderr).toBe(0);
    expect((JSON.parse(raw.stdout) as Doc).annotations).toEqual({ "org.example.i": "2" });
  }, TIMEOUT);

  test("bad annotations are usage errors (exit 2)", async () => {
    const work = tempDir();
    const ctx = helloContext("scratch");
    for (const [args, message] of [
      [["--annotation", "layer:k=v"], 'unknown annotation type "layer"'],
      [["--annotation", "novalue"], 'invalid --annotation "novalue"'],
      [["--annotation", "index[linux/arm64]:k=v"], 'a platform applies to manifest annotations only, not "index[linux/arm64]"'],
      [["--annotation", "manifest[linux/]:k=v"], 'invalid platform "linux/"'],
      [["-o", `type=oci,dest=${work}/x,annotation-layer.k=v`], 'unknown option "annotation-layer.k"'],
    ] as const) {
      const res = await build([...args, ctx], work);
      expectExit(res, 2, args.join(" "));
      expect(res.stderr).toContain(message);
    }
  }, TIMEOUT);
});
