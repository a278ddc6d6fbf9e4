// Pulling from the real docker-registry, directly and through the fault-injecting proxy: manifests
// and blobs land in the content store only when whole and verified; dropped transfers resume with
// Range; server errors are retried; corrupt data is downloaded once more and never enters the store.
// More faults (wrong lengths, stalls, 429, expiring tokens) are in pull-faults.test.ts.
import { beforeAll, describe, expect, test } from "bun:test";
import { getManifest } from "../../src/registry/manifest.ts";
import { fetchBlobToStore } from "../../src/registry/pull.ts";
import { parseReference } from "../../src/registry/reference.ts";
import type { Manifest } from "../../src/oci/types.ts";
import { startFaultProxy } from "../fixtures/fault-proxy.ts";
import { useProxiedRegistry } from "../fixtures/proxied-registry.ts";
import { sha256Of, signal, storeContents, tempStore, testClient } from "./helpers.ts";

const reg = useProxiedRegistry();
let manifest: Manifest;
let layer: Manifest["layers"][number];

beforeAll(async () => {
  const m = await getManifest(testClient(), parseReference(`${reg.group.open}/busybox:latest`), "latest", signal());
  manifest = JSON.parse(new TextDecoder().decode(m.bytes)) as Manifest;
  layer = manifest.layers[0] as Manifest["layers"][number];
});

const viaProxy = () => parseReference(`${reg.proxy.addr}/busybox:latest`);
const blobPath = () => `/v2/busybox/blobs/${layer.digest}`;
const requestsFor = (path: string) => reg.proxy.seen.filter((r) => r.path === path);

describe("pull from docker-registry", () => {
  test("an anonymous pull stores the manifest's blobs, each verified", async () => {
    const store = tempStore();
    const ref = parseReference(`${reg.group.open}/busybox`);
    const m = await getManifest(testClient(), ref, "latest", signal());
    expect(m.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(m.digest).toBe(sha256Of(m.bytes));
    let last = 0;
    for (const d of [manifest.config, layer]) await fetchBlobToStore(testClient(), ref, d, store, signal(), { progress: (cur) => (last = cur) });
    expect(last).toBe(layer.size);
    expect(storeContents(store)).toEqual({ blobs: [manifest.config.digest, layer.digest].sort(), ingest: [] });
    expect(sha256Of(await store.readBytes(layer.digest))).toBe(layer.digest);
  });

  test("a blob already in the store is not fetched again", async () => {
    const store = tempStore();
    await fetchBlobToStore(testClient(), viaProxy(), layer, store, signal());
    const before = requestsFor(blobPath()).length;
    await fetchBlobToStore(testClient(), viaProxy(), layer, store, signal());
    expect(requestsFor(blobPath()).length).toBe(before);
  });

  test("a blob corrupted twice fails with a digest mismatch naming registry, repository and digest; nothing is stored", async () => {
    const store = tempStore();
    reg.proxy.rules.push({ method: "GET", path: (p) => p === blobPath(), fault: { kind: "corrupt" }, times: 2 });
    const before = requestsFor(blobPath()).length;
    const err = await fetchBlobToStore(testClient(), viaProxy(), layer, store, signal()).catch((e) => e);
    expect(err.code).toBe("E_CONTENT_DIGEST_MISMATCH");
    expect(err.message).toStartWith(`blob "${layer.digest}" of "${reg.proxy.addr}/busybox": content digest mismatch: expected "${layer.digest}"`);
    expect(requestsFor(blobPath()).length - before).toBe(2);
    expect(storeContents(store)).toEqual({ blobs: [], ingest: [] });
    // The registry is healthy again: the same store takes the blob.
    await fetchBlobToStore(testClient(), viaProxy(), layer, store, signal());
    expect(storeContents(store).blobs).toEqual([layer.digest]);
  });

  test("a blob corrupted once is downloaded again from the start and stored", async () => {
    const store = tempStore();
    reg.proxy.rules.push({ method: "GET", path: (p) => p === blobPath(), fault: { kind: "corrupt" }, times: 1 });
    const before = requestsFor(blobPath()).length;
    const notices: string[] = [];
    await fetchBlobToStore(testClient(), viaProxy(), layer, store, signal(), { retry: (m) => notices.push(m) });
    expect(requestsFor(blobPath()).slice(before).map((r) => r.range)).toEqual([null, null]);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain(`blob "${layer.digest}" of "${reg.proxy.addr}/busybox": content digest mismatch`);
    expect(sha256Of(await store.readBytes(layer.digest))).toBe(layer.digest);
  });

  test("a transfer cut in the middle resumes with a Range request", async () => {
    const store = tempStore();
    const cutAt = layer.size >> 1;
    reg.proxy.rules.push({ method: "GET", path: (p) => p === blobPath(), fault: { kind: "cut", afterBytes: cutAt }, times: 1 });
    const before = requestsFor(blobPath()).length;
    const notices: string[] = [];
    await fetchBlobToStore(testClient(), viaProxy(), layer, store, signal(), { retry: (m) => notices.push(m) });
    const tries = requestsFor(blobPath()).slice(before);
    expect(tries.map((r) => r.range)).toEqual([null, `bytes=${cutAt}-`]);
    expect(notices).toEqual([`blob "${layer.digest}" of "${reg.proxy.addr}/busybox": the download broke off after ${cutAt} of ${layer.size} bytes; retrying in 5ms`]);
    expect(sha256Of(await store.readBytes(layer.digest))).toBe(layer.digest);
    expect(storeContents(store).ingest).toEqual([]);
  });

  test("a registry that ignores Range still resumes: what already arrived is skipped", async () => {
    const store = tempStore();
    reg.proxy.rules.push({ method: "GET", path: (p) => p === blobPath(), fault: { kind: "cut", afterBytes: 1000 }, times: 1 });
    reg.proxy.rules.push({ method: "GET", path: (p) => p === blobPath(), fault: { kind: "ignore-range" }, times: 1 });
    await fetchBlobToStore(testClient(), viaProxy(), layer, store, signal());
    expect(sha256Of(await store.readBytes(layer.digest))).toBe(layer.digest);
  });

  test("a transfer that keeps breaking fails cleanly after the retries, storing nothing", async () => {
    const store = tempStore();
    reg.proxy.rules.push({ method: "GET", path: (p) => p === blobPath(), fault: { kind: "cut", afterBytes: 100 }, times: 3 });
    const err = await fetchBlobToStore(testClient(), viaProxy(), layer, store, signal()).catch((e) => e);
    expect(err.code).toBe("E_REGISTRY_TRANSFER");
    expect(err.message).toBe(`blob "${layer.digest}" of "${reg.proxy.addr}/busybox": the download broke off after ${3 * 100} of ${layer.size} bytes`); // 100 more on each of the 3 tries
    expect(err.hint).toContain("try again");
    expect(storeContents(store)).toEqual({ blobs: [], ingest: [] });
  });

  test("HTTP 500 then success: the request is retried and the pull succeeds", async () => {
    const store = tempStore();
    reg.proxy.rules.push({ method: "GET", path: (p) => p.endsWith("/manifests/latest"), fault: { kind: "status", status: 500 }, times: 1 });
    reg.proxy.rules.push({ method: "GET", path: (p) => p === blobPath(), fault: { kind: "status", status: 503 }, times: 2 });
    const m = await getManifest(testClient(), viaProxy(), "latest", signal());
    expect(m.digest).toBe(sha256Of(m.bytes));
    const notices: string[] = [];
    await fetchBlobToStore(testClient(), viaProxy(), layer, store, signal(), { retry: (n) => notices.push(n) });
    const what = `blob "${layer.digest}" of "${reg.proxy.addr}/busybox": HTTP 503; retrying in`;
    expect(notices).toEqual([`${what} 5ms`, `${what} 10ms`]);
    expect(storeContents(store).blobs).toEqual([layer.digest]);
  });

  test("HTTP 500 every time: a clear error once the retries are spent", async () => {
    reg.proxy.rules.push({ method: "GET", path: (p) => p.endsWith("/manifests/latest"), fault: { kind: "status", status: 500 }, times: 3 });
    const err = await getManifest(testClient(), viaProxy(), "latest", signal()).catch((e) => e);
    expect(err.code).toBe("E_REGISTRY_HTTP");
    expect(err.message).toBe(`manifest of "${reg.proxy.addr}/busybox:latest": HTTP 500 (UNKNOWN)`);
    expect(err.hint).toContain("try again later");
  });

  test("a redirect to blob storage on another host is followed", async () => {
    const store = tempStore();
    reg.proxy.rules.push({ method: "GET", path: (p) => p === blobPath(), fault: { kind: "redirect-to-storage" }, times: 1 });
    const before = reg.proxy.storageSeen.length;
    await fetchBlobToStore(testClient(), viaProxy(), layer, store, signal());
    expect(reg.proxy.storageSeen.slice(before).map((r) => r.path)).toEqual([blobPath()]);
    expect(storeContents(store).blobs).toEqual([layer.digest]);
  });
});

describe("manifest checks", () => {
  test("a Content-Type that contradicts the document's mediaType is refused", async () => {
    reg.proxy.rules.push({
      method: "GET",
      path: (p) => p.endsWith("/manifests/latest"),
      fault: { kind: "rewrite", rewrite: (_res, body) => new Response(body, { headers: { "content-type": "application/vnd.docker.distribution.manifest.v2+json" } }) },
      times: 1,
    });
    const err = await getManifest(testClient(), viaProxy(), "latest", signal()).catch((e) => e);
    expect(err.code).toBe("E_REGISTRY_BAD_MANIFEST");
    expect(err.message).toContain('is served as "application/vnd.docker.distribution.manifest.v2+json" but declares "application/vnd.oci.image.manifest.v1+json"');
  });

  test("schema 1 manifests are refused with a clear error", async () => {
    const schema1 = JSON.stringify({ schemaVersion: 1, name: "busybox", tag: "latest", fsLayers: [], history: [] });
    reg.proxy.rules.push({
      method: "GET",
      path: (p) => p.endsWith("/manifests/latest"),
      fault: { kind: "rewrite", rewrite: () => new Response(schema1, { headers: { "content-type": "application/vnd.docker.distribution.manifest.v1+prettyjws" } }) },
      times: 1,
    });
    const err = await getManifest(testClient(), viaProxy(), "latest", signal()).catch((e) => e);
    expect(err.code).toBe("E_REGISTRY_SCHEMA1");
    expect(err.hint).toContain("push the image again");
  });

  test("a manifest over the size cap is refused", async () => {
    const big = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", pad: "x".repeat(5 * 1024 * 1024) });
    reg.proxy.rules.push({
      method: "GET",
      path: (p) => p.endsWith("/manifests/latest"),
      fault: { kind: "rewrite", rewrite: () => new Response(big, { headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" } }) },
      times: 1,
    });
    const err = await getManifest(testClient(), viaProxy(), "latest", signal()).catch((e) => e);
    expect(err.code).toBe("E_REGISTRY_BAD_MANIFEST");
    expect(err.message).toContain("over the 4 MiB limit");
  });

  test("a manifest fetched by digest is checked against that digest (and fetched again while retries last)", async () => {
    const m = await getManifest(testClient(), viaProxy(), "latest", signal());
    const path = `/v2/busybox/manifests/${m.digest}`;
    reg.proxy.rules.push({ method: "GET", path: (p) => p === path, fault: { kind: "corrupt" }, times: 3 });
    const err = await getManifest(testClient(), viaProxy(), m.digest, signal()).catch((e) => e);
    expect(err.code).toBe("E_REGISTRY_DIGEST_MISMATCH");
    expect(err.message).toContain(`manifest of "${reg.proxy.addr}/busybox@${m.digest}": expected digest "${m.digest}"`);
    expect(requestsFor(path)).toHaveLength(3);
    // Corrupted once: the second fetch is whole.
    reg.proxy.rules.push({ method: "GET", path: (p) => p === path, fault: { kind: "corrupt" }, times: 1 });
    expect((await getManifest(testClient(), viaProxy(), m.digest, signal())).digest).toBe(m.digest);
  });

  test("a manifest fetched by tag is checked against the registry's Docker-Content-Digest", async () => {
    reg.proxy.rules.push({ method: "GET", path: (p) => p.endsWith("/manifests/latest"), fault: { kind: "corrupt" }, times: 3 });
    const err = await getManifest(testClient(), viaProxy(), "latest", signal()).catch((e) => e);
    expect(err.code).toBe("E_REGISTRY_DIGEST_MISMATCH");
    // Unchanged, it passes the same check.
    expect((await getManifest(testClient(), viaProxy(), "latest", signal())).digest).toMatch(/^sha256:/);
  });
});

describe("registry errors say what to do", () => {
  test("404: an unknown repository is told apart from an unknown tag", async () => {
    const noRepo = await getManifest(testClient(), parseReference(`${reg.group.open}/nothing/here`), "latest", signal()).catch((e) => e);
    expect(noRepo.code).toBe("E_REGISTRY_NAME_UNKNOWN");
    expect(noRepo.message).toBe(`manifest of "${reg.group.open}/nothing/here:latest": the repository does not exist`);
    const noTag = await getManifest(testClient(), parseReference(`${reg.group.open}/busybox`), "v9", signal()).catch((e) => e);
    expect(noTag.code).toBe("E_REGISTRY_MANIFEST_UNKNOWN");
    expect(noTag.message).toBe(`tag "v9" not found in "${reg.group.open}/busybox"`);
    expect(noTag.hint).toBe("the repository has: latest");
  });

  test("connection refused, unknown host, and TLS spoken to a plain-HTTP registry", async () => {
    reg.proxy.stop();
    const refused = await getManifest(testClient(), viaProxy(), "latest", signal()).catch((e) => e);
    reg.proxy = await startFaultProxy(reg.group.open);
    expect(refused.code).toBe("E_REGISTRY_UNREACHABLE");
    expect(refused.message).toContain("refused");
    const unknown = await getManifest(testClient(), parseReference("no-such-registry.invalid/app"), "latest", signal()).catch((e) => e);
    expect(unknown.code).toBe("E_REGISTRY_UNKNOWN_HOST");
    expect(unknown.message).toBe('unknown registry host "no-such-registry.invalid"');
    // 2130706433 is 127.0.0.1 written as one number: not recognized as loopback, so spoken to over HTTPS.
    const port = reg.group.open.split(":")[1];
    const tls = await getManifest(testClient(), parseReference(`2130706433:${port}/busybox`), "latest", signal()).catch((e) => e);
    expect(tls.code).toBe("E_REGISTRY_TLS");
    expect(tls.hint).toBe(`if this registry speaks plain HTTP, pass --insecure-registry 2130706433:${port}`);
  });
});
