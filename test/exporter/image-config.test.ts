// The image config as BuildKit writes it: diff_ids from the layers, history in step with them.
import { describe, expect, test } from "bun:test";
import { finalizeImageConfig } from "../../src/exporter/image-config.ts";
import { familiarName } from "../../src/exporter/archive.ts";
import type { Digest, ImageConfig } from "../../src/oci/types.ts";
import { parseOutput, parseOutputs } from "../../src/cli/output-flags.ts";

const d = (c: string) => `sha256:${c.repeat(64)}` as Digest;
const base: ImageConfig = {
  architecture: "amd64",
  os: "linux",
  config: { Env: ["PATH=/bin"], Labels: { a: "1" } },
  rootfs: { type: "layers", diff_ids: [d("a")] },
  history: [
    { created: "2020-01-01T00:00:00Z", created_by: "base layer" },
    { created_by: "WORKDIR /app", comment: "buildkit.dockerfile.v0" },
    { created_by: "ENV X=1", comment: "buildkit.dockerfile.v0", empty_layer: true },
    { created_by: "RUN make # buildkit", comment: "buildkit.dockerfile.v0" },
  ],
};

describe("finalizeImageConfig", () => {
  test("diff_ids are the layers'; new history entries get the created time; labels merge", () => {
    const c = finalizeImageConfig({ config: base, diffIds: [d("a"), d("b"), d("c")], baseLayers: 1, created: 1_700_000_000, fromEpoch: false, labels: { b: "2" } });
    expect(c.rootfs.diff_ids).toEqual([d("a"), d("b"), d("c")]);
    expect(c.created).toBe("2023-11-14T22:13:20Z");
    expect(c.history?.map((h) => h.created)).toEqual(["2020-01-01T00:00:00Z", "2023-11-14T22:13:20Z", "2023-11-14T22:13:20Z", "2023-11-14T22:13:20Z"]);
    expect(c.config.Labels).toEqual({ a: "1", b: "2" });
    expect(base.config.Labels).toEqual({ a: "1" });
  });

  test("history claiming more layers than there are is made empty; missing entries are added", () => {
    const fewer = finalizeImageConfig({ config: base, diffIds: [d("a"), d("b")], baseLayers: 1, created: 0, fromEpoch: false, labels: {} });
    expect(fewer.history?.map((h) => !!h.empty_layer)).toEqual([false, false, true, true]);
    const more = finalizeImageConfig({ config: base, diffIds: [d("a"), d("b"), d("c"), d("e")], baseLayers: 1, created: 0, fromEpoch: false, labels: {} });
    expect(more.history).toHaveLength(5);
    expect(more.history?.at(-1)?.comment).toBe("buildkit.exporter.image.v0");
  });

  test("SOURCE_DATE_EPOCH caps the base image's times too", () => {
    const c = finalizeImageConfig({ config: base, diffIds: [d("a"), d("b"), d("c")], baseLayers: 1, created: 86_400, fromEpoch: true, labels: {} });
    expect(c.history?.[0]?.created).toBe("1970-01-02T00:00:00Z");
  });
});

describe("image output flags", () => {
  test("buildx's output forms and image options", () => {
    expect(parseOutput("type=oci,dest=x.tar")).toMatchObject({ type: "oci", dest: "x.tar", tar: true, ociMediaTypes: true, compression: "gzip" });
    expect(parseOutput("type=docker,dest=-,name=app:1")).toMatchObject({ type: "docker", dest: "-", names: ["app:1"], ociMediaTypes: false });
    expect(parseOutput('type=image,"name=a:1,b:2",push=true,compression=zstd,oci-mediatypes=true,annotation.org.x=1')).toMatchObject({
      type: "image", push: true, names: ["a:1", "b:2"], compression: "zstd", annotations: { "org.x": "1" },
    });
    expect(parseOutput("type=registry,name=r/a")).toMatchObject({ type: "image", push: true });
    expect(parseOutputs({ outputs: [], tags: ["app:2"], push: false, load: true })).toMatchObject([{ type: "docker", load: true, names: ["app:2"] }]);
  });

  test("zstd keeps the output's media types, as BuildKit (Docker's by default for image and docker)", () => {
    expect(parseOutput("type=image,name=a,compression=zstd")).toMatchObject({ compression: "zstd", ociMediaTypes: false });
    expect(parseOutput("type=docker,dest=x,compression=zstd,oci-mediatypes=true")).toMatchObject({ compression: "zstd", ociMediaTypes: true });
  });

  test("bad combinations are usage errors with a hint", () => {
    expect(() => parseOutput("type=oci,dest=x,compression=brotli")).toThrow('invalid compression "brotli"');
    expect(() => parseOutput("type=oci,dest=x,compression-level=10")).toThrow("compression-level 10 is out of range for gzip");
    expect(parseOutput("type=oci,dest=x,compression=zstd,compression-level=19")).toMatchObject({ compressionLevel: 19 });
    expect(() => parseOutput("type=oci,dest=x,bogus=1")).toThrow('unknown option "bogus"');
    expect(() => parseOutputs({ outputs: [], tags: [], push: true, load: false })).toThrow("pushing needs an image name");
  });

  test("docker's familiar names", () => {
    expect(familiarName("app")).toBe("app:latest");
    expect(familiarName("docker.io/library/app:1")).toBe("app:1");
    expect(familiarName("user/app:2")).toBe("user/app:2");
    expect(familiarName("localhost:5000/app")).toBe("localhost:5000/app:latest");
  });
});
