// Pushing to the real docker-registry with the push API the image exporter will use: existence
// checks, cross-repository mounts, monolithic and chunked uploads, manifests with their exact media
// type, the digests the registry reports checked; and choosing a platform from a pushed index.
import { beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { CacheIndex } from "../../src/cache/index.ts";
import { MEDIA_DOCKER_MANIFEST, MEDIA_OCI_INDEX, MEDIA_OCI_MANIFEST } from "../../src/oci/media-types.ts";
import type { Descriptor, Digest } from "../../src/oci/types.ts";
import { getManifest } from "../../src/registry/manifest.ts";
import { blobExists, pushBlob, putManifest } from "../../src/registry/push.ts";
import { pushImage } from "../../src/registry/push-image.ts";
import { parseReference, type Reference } from "../../src/registry/reference.ts";
import { NativeSnapshotter } from "../../src/snapshot/native.ts";
import { ImageSource } from "../../src/source/image.ts";
import { vertexProgress } from "../../src/util/progress.ts";
import { makeTar } from "../../scripts/test-env.ts";
import { useProxiedRegistry } from "../fixtures/proxied-registry.ts";
import { tempDir } from "../harness.ts";
import { sha256Of, signal, tempStore, testClient } from "./helpers.ts";

const reg = useProxiedRegistry();


const blobOf = (bytes: Uint8Array<ArrayBuffer>, mediaType = "application/octet-stream"): { desc: Descriptor; data: Blob } => ({
  desc: { mediaType, digest: sha256Of(bytes), size: bytes.length },
  data: new Blob([bytes]),
});

async function readBlob(ref: Reference, digest: Digest): Promise<Uint8Array> {
  const res = await fetch(`http://${ref.domain}/v2/${ref.path}/blobs/${digest}`);
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

describe("push to docker-registry", () => {
  test("a monolithic upload, then the blob exists", async () => {
    const ref = parseReference(`${reg.proxy.addr}/pushed/mono`);
    const { desc, data } = blobOf(randomBytes(100_000));
    expect(await blobExists(testClient(), ref, desc.digest, signal())).toBe(false);
    const before = reg.proxy.seen.length;
    expect(await pushBlob(testClient(), ref, desc, data, {}, signal())).toBe("uploaded");
    expect(reg.proxy.seen.slice(before).map((r) => r.method)).toEqual(["HEAD", "POST", "PUT"]);
    expect(await blobExists(testClient(), ref, desc.digest, signal())).toBe(true);
    expect(await pushBlob(testClient(), ref, desc, data, {}, signal())).toBe("exists");
    expect(sha256Of(await readBlob(parseReference(`${reg.group.open}/pushed/mono`), desc.digest))).toBe(desc.digest);
  });

  test("a chunked upload sends PATCH chunks in order, then the closing PUT", async () => {
    const ref = parseReference(`${reg.proxy.addr}/pushed/chunked`);
    const bytes = randomBytes(200_000);
    const { desc, data } = blobOf(bytes);
    const before = reg.proxy.seen.length;
    expect(await pushBlob(testClient(), ref, desc, data, { chunkSize: 64 * 1024 }, signal())).toBe("uploaded");
    expect(reg.proxy.seen.slice(before).map((r) => r.method)).toEqual(["HEAD", "POST", "PATCH", "PATCH", "PATCH", "PATCH", "PUT"]);
    expect(Buffer.from(await readBlob(parseReference(`${reg.group.open}/pushed/chunked`), desc.digest)).equals(bytes)).toBe(true);
  });

  test("a blob of another repository is mounted, not uploaded", async () => {
    const m = JSON.parse(new TextDecoder().decode((await getManifest(testClient(), parseReference(`${reg.group.open}/busybox`), "latest", signal())).bytes));
    const desc = m.layers[0] as Descriptor;
    const ref = parseReference(`${reg.proxy.addr}/pushed/mounted`);
    const before = reg.proxy.seen.length;
    // The data is never read when the mount works: a Blob of the right size stands in.
    expect(await pushBlob(testClient(), ref, desc, new Blob([new Uint8Array(desc.size)]), { mountFrom: ["busybox"] }, signal())).toBe("mounted");
    expect(reg.proxy.seen.slice(before).map((r) => r.method)).toEqual(["HEAD", "POST"]);
    expect(await blobExists(testClient(), ref, desc.digest, signal())).toBe(true);
  });

  test("a server error in the middle of an upload starts the upload again", async () => {
    const ref = parseReference(`${reg.proxy.addr}/pushed/retried`);
    const { desc, data } = blobOf(randomBytes(50_000));
    reg.proxy.rules.push({ method: "PUT", path: (p) => p.includes("/pushed/retried/blobs/uploads/"), fault: { kind: "status", status: 502 }, times: 1 });
    expect(await pushBlob(testClient(), ref, desc, data, {}, signal())).toBe("uploaded");
    expect(sha256Of(await readBlob(parseReference(`${reg.group.open}/pushed/retried`), desc.digest))).toBe(desc.digest);
  });

  test("a digest reported back that differs from the one sent is an error", async () => {
    const ref = parseReference(`${reg.proxy.addr}/pushed/lying`);
    const { desc, data } = blobOf(randomBytes(1000));
    const other = sha256Of("something else");
    reg.proxy.rules.push({
      method: "PUT",
      path: (p) => p.includes("/blobs/uploads/"),
      fault: { kind: "rewrite", rewrite: (res) => new Response(null, { status: res.status, headers: { "docker-content-digest": other } }) },
      times: 1,
    });
    const err = await pushBlob(testClient(), ref, desc, data, {}, signal()).catch((e) => e);
    expect(err.code).toBe("E_REGISTRY_DIGEST_MISMATCH");
    expect(err.message).toContain(`the registry stored digest "${other}", not "${desc.digest}"`);
  });

  test("manifests are PUT with their exact media type and come back with it", async () => {
    const ref = parseReference(`${reg.group.open}/pushed/image`);
    const config = blobOf(new TextEncoder().encode(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } })));
    await pushBlob(testClient(), ref, config.desc, config.data, {}, signal());
    for (const mediaType of [MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST]) {
      const configType = mediaType === MEDIA_OCI_MANIFEST ? "application/vnd.oci.image.config.v1+json" : "application/vnd.docker.container.image.v1+json";
      const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType, config: { ...config.desc, mediaType: configType }, layers: [] }));
      const digest = await putManifest(testClient(), ref, "v1", bytes, mediaType, signal());
      expect(digest).toBe(sha256Of(bytes));
      const back = await getManifest(testClient(), ref, "v1", signal());
      expect(back).toEqual({ bytes, mediaType, digest });
    }
  });

  test("a manifest naming a blob the repository lacks is refused with the registry's code", async () => {
    const ref = parseReference(`${reg.group.open}/pushed/broken`);
    const missing = { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256Of("not pushed"), size: 10 };
    const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_OCI_MANIFEST, config: missing, layers: [] }));
    const err = await putManifest(testClient(), ref, "v1", bytes, MEDIA_OCI_MANIFEST, signal()).catch((e) => e);
    expect(err.code).toBe("E_REGISTRY_HTTP");
    expect(err.message).toBe(`pushing manifest "${reg.group.open}/pushed/broken:v1": HTTP 400 (MANIFEST_BLOB_UNKNOWN)`);
  });
});

describe("pushing a whole index", () => {
  test("blobs first (shared ones once, the base layer mounted), then the manifests, the index tagged", async () => {
    const base = JSON.parse(new TextDecoder().decode((await getManifest(testClient(), parseReference(`${reg.group.open}/busybox`), "latest", signal())).bytes));
    const baseLayer = base.layers[0] as Descriptor;
    const shared = blobOf(randomBytes(3000), "application/vnd.oci.image.layer.v1.tar+gzip");
    const blobs = [];
    const manifests = [];
    const entries: Descriptor[] = [];
    for (const architecture of ["amd64", "arm64"]) {
      const config = blobOf(new TextEncoder().encode(JSON.stringify({ os: "linux", architecture, rootfs: { type: "layers", diff_ids: [] } })), "application/vnd.oci.image.config.v1+json");
      blobs.push({ desc: config.desc, data: config.data }, { desc: shared.desc, data: shared.data }, { desc: baseLayer, data: new Blob([new Uint8Array(baseLayer.size)]), mountFrom: ["busybox"] });
      const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_OCI_MANIFEST, config: config.desc, layers: [baseLayer, shared.desc] }));
      manifests.push({ bytes, mediaType: MEDIA_OCI_MANIFEST });
      entries.push({ mediaType: MEDIA_OCI_MANIFEST, digest: sha256Of(bytes), size: bytes.length, platform: { os: "linux", architecture } });
    }
    const index = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_OCI_INDEX, manifests: entries }));
    manifests.push({ bytes: index, mediaType: MEDIA_OCI_INDEX });
    const how = new Map<string, string>();
    const ref = parseReference(`${reg.group.open}/pushed/index:v2`);
    const digest = await pushImage(testClient(), ref, { blobs, manifests }, { onBlob: (d, h) => how.set(d.digest, h) }, signal());
    expect(digest).toBe(sha256Of(index));
    expect(how.size).toBe(4);
    expect(how.get(baseLayer.digest)).toBe("mounted");
    expect(how.get(shared.desc.digest)).toBe("uploaded");
    const back = await getManifest(testClient(), ref, "v2", signal());
    expect(back).toEqual({ bytes: index, mediaType: MEDIA_OCI_INDEX, digest });
    for (const e of entries) expect((await getManifest(testClient(), ref, e.digest, signal())).digest).toBe(e.digest);
  });
});

describe("pushing without a blob callback", () => {
  test("every blob is still pushed (the manifest names nothing the registry lacks)", async () => {
    const layer = blobOf(randomBytes(2000), "application/vnd.oci.image.layer.v1.tar+gzip");
    const config = blobOf(new TextEncoder().encode(JSON.stringify({ os: "linux", architecture: "amd64", rootfs: { type: "layers", diff_ids: [] } })), "application/vnd.oci.image.config.v1+json");
    const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_OCI_MANIFEST, config: config.desc, layers: [layer.desc] }));
    const ref = parseReference(`${reg.group.open}/pushed/no-callback:v1`);
    const digest = await pushImage(testClient(), ref, { blobs: [layer, config], manifests: [{ bytes, mediaType: MEDIA_OCI_MANIFEST }] }, {}, signal());
    expect(digest).toBe(sha256Of(bytes));
    expect(await blobExists(testClient(), ref, layer.desc.digest, signal())).toBe(true);
  });
});

describe("unpacking checks DiffIDs", () => {
  test("a layer whose content differs from the config's DiffID is refused and nothing is kept", async () => {
    const ref = parseReference(`${reg.group.open}/pushed/wrong-diffid:v1`);
    const tar = await makeTar([{ name: "a.txt", type: "file", mode: 0o644, body: new TextEncoder().encode("a\n") }]);
    const layer = blobOf(Uint8Array.from(Bun.gzipSync(tar as Uint8Array<ArrayBuffer>)), "application/vnd.oci.image.layer.v1.tar+gzip");
    const claimed = sha256Of("some other tar");
    const config = blobOf(new TextEncoder().encode(JSON.stringify({ os: "linux", architecture: "amd64", config: {}, rootfs: { type: "layers", diff_ids: [claimed] } })), "application/vnd.oci.image.config.v1+json");
    for (const b of [layer, config]) await pushBlob(testClient(), ref, b.desc, b.data, {}, signal());
    const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_OCI_MANIFEST, config: config.desc, layers: [layer.desc] }));
    await putManifest(testClient(), ref, "v1", bytes, MEDIA_OCI_MANIFEST, signal());
    const root = tempDir("kitbuild-pull-");
    const cache = new CacheIndex(`${root}/index.db`);
    try {
      const images = new ImageSource({ registry: testClient(), store: tempStore(), index: cache, snapshotter: new NativeSnapshotter(root, cache, false), preserveOwner: false });
      const img = await images.resolve(ref, { os: "linux", architecture: "amd64" }, signal());
      const err = await images.pull(img, vertexProgress(() => {}, "test"), signal()).catch((e) => e);
      expect(err.code).toBe("E_LAYER_DIFFID_MISMATCH");
      expect(err.message).toBe(`layer "${layer.desc.digest}" unpacks to "${sha256Of(tar)}", but the image config says "${claimed}"`);
      expect(cache.layerSnapshot(claimed)).toBeUndefined();
    } finally {
      cache.close();
    }
  });
});

test("a config blob that matches its digest but is not a JSON object is a clear error naming the image", async () => {
  const ref = parseReference(`${reg.group.open}/pushed/bad-config:v1`);
  const config = blobOf(new TextEncoder().encode("this is not json"), "application/vnd.oci.image.config.v1+json");
  await pushBlob(testClient(), ref, config.desc, config.data, {}, signal());
  const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_OCI_MANIFEST, config: config.desc, layers: [] }));
  await putManifest(testClient(), ref, "v1", bytes, MEDIA_OCI_MANIFEST, signal());
  const root = tempDir("kitbuild-pull-");
  const cache = new CacheIndex(`${root}/index.db`);
  try {
    const images = new ImageSource({ registry: testClient(), store: tempStore(), index: cache, snapshotter: new NativeSnapshotter(root, cache, false), preserveOwner: false });
    const err = await images.resolve(ref, { os: "linux", architecture: "amd64" }, signal()).catch((e) => e);
    expect(err.code).toBe("E_REGISTRY_BAD_MANIFEST");
    expect(err.message).toContain(`${reg.group.open}/pushed/bad-config:v1`);
    expect(err.message).toContain(config.desc.digest);
  } finally {
    cache.close();
  }
});

describe("a multi-platform index", () => {
  const platforms = [
    { os: "linux", architecture: "amd64" },
    { os: "linux", architecture: "arm64", variant: "v8" },
    { os: "linux", architecture: "arm", variant: "v7" },
    { os: "linux", architecture: "arm", variant: "v6" },
  ];
  let ref: Reference;

  beforeAll(async () => {
    ref = parseReference(`${reg.group.open}/multi:latest`);
    const manifests: Descriptor[] = [];
    for (const p of platforms) {
      const name = [p.os, p.architecture, p.variant].filter(Boolean).join("/");
      const tar = await makeTar([{ name: "platform.txt", type: "file", mode: 0o644, body: new TextEncoder().encode(`${name}\n`) }]);
      const layer = blobOf(Uint8Array.from(Bun.gzipSync(tar as Uint8Array<ArrayBuffer>)), "application/vnd.oci.image.layer.v1.tar+gzip");
      const config = blobOf(new TextEncoder().encode(JSON.stringify({ ...p, config: {}, rootfs: { type: "layers", diff_ids: [sha256Of(tar)] } })), "application/vnd.oci.image.config.v1+json");
      for (const b of [layer, config]) await pushBlob(testClient(), ref, b.desc, b.data, {}, signal());
      const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_OCI_MANIFEST, config: config.desc, layers: [layer.desc] }));
      const digest = await putManifest(testClient(), ref, sha256Of(bytes), bytes, MEDIA_OCI_MANIFEST, signal());
      manifests.push({ mediaType: MEDIA_OCI_MANIFEST, digest, size: bytes.length, platform: p });
    }
    // An attestation-like entry without a usable platform must never be chosen.
    manifests.push({ ...(manifests[0] as Descriptor), platform: { os: "unknown", architecture: "unknown" } });
    const index = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_OCI_INDEX, manifests }));
    await putManifest(testClient(), ref, "latest", index, MEDIA_OCI_INDEX, signal());
  });

  async function pullPlatform(wanted: { os: string; architecture: string; variant?: string }): Promise<string> {
    const root = tempDir("kitbuild-pull-");
    const index = new CacheIndex(`${root}/index.db`);
    try {
      const images = new ImageSource({ registry: testClient(), store: tempStore(), index, snapshotter: new NativeSnapshotter(root, index, false), preserveOwner: false });
      const img = await images.resolve(ref, wanted, signal());
      const top = await images.pull(img, vertexProgress(() => {}, "test"), signal());
      return readFileSync(`${root}/snapshots/${top}/fs/platform.txt`, "utf8").trim();
    } finally {
      index.close();
    }
  }

  test("the manifest of the wanted platform is chosen, pulled and unpacked", async () => {
    expect(await pullPlatform({ os: "linux", architecture: "amd64" })).toBe("linux/amd64");
    expect(await pullPlatform({ os: "linux", architecture: "arm64" })).toBe("linux/arm64/v8");
    expect(await pullPlatform({ os: "linux", architecture: "arm", variant: "v6" })).toBe("linux/arm/v6");
    expect(await pullPlatform({ os: "linux", architecture: "arm", variant: "v7" })).toBe("linux/arm/v7");
  });

  test("an older arm variant serves a newer arm; a missing platform lists what there is", async () => {
    const v6only = parseReference(`${reg.group.open}/multi:v6only`);
    const top = await getManifest(testClient(), ref, "latest", signal());
    const index = JSON.parse(new TextDecoder().decode(top.bytes));
    index.manifests = index.manifests.filter((m: Descriptor) => m.platform?.variant === "v6");
    await putManifest(testClient(), v6only, "v6only", new TextEncoder().encode(JSON.stringify(index)), MEDIA_OCI_INDEX, signal());
    const root = tempDir("kitbuild-pull-");
    const cache = new CacheIndex(`${root}/index.db`);
    const images = new ImageSource({ registry: testClient(), store: tempStore(), index: cache, snapshotter: new NativeSnapshotter(root, cache, false), preserveOwner: false });
    const img = await images.resolve(v6only, { os: "linux", architecture: "arm", variant: "v7" }, signal());
    expect(img.config.variant).toBe("v6");
    const err = await images.resolve(ref, { os: "linux", architecture: "s390x" }, signal()).catch((e) => e);
    cache.close();
    expect(err.code).toBe("E_REGISTRY_NO_PLATFORM");
    expect(err.message).toMatch(/^failed to resolve source metadata for .*\/multi:latest: no match for platform in manifest sha256:[0-9a-f]{64}: not found$/);
    expect(err.hint).toContain("has no image for linux/s390x (it has linux/amd64, linux/arm64/v8, linux/arm/v7, linux/arm/v6);");
  });
});
