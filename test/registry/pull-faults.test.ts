// Registry faults a hostile or broken network produces, each through the fault-injecting proxy in
// front of the real docker-registry: a Content-Length too long (all bytes, then a drop: nothing more
// is asked for, so no HTTP 416) or too short (resumed with Range), a 416 or a range that starts
// elsewhere (the blob starts again from byte 0), connections that go silent before the headers or
// in the middle of a body (given up on after the idle timeout, then retried or resumed), 429 with
// Retry-After (honoured, or given up on at once beyond the cap, with a rate-limit hint), a non-JSON
// manifest, and a token that runs out in the middle of a pull. After every failure nothing
// unverified is stored, and a pull from the healthy registry succeeds.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { getManifest } from "../../src/registry/manifest.ts";
import { fetchBlobToStore } from "../../src/registry/pull.ts";
import { parseReference } from "../../src/registry/reference.ts";
import type { Manifest } from "../../src/oci/types.ts";
import { startFaultProxy, type FaultProxy } from "../fixtures/fault-proxy.ts";
import { useProxiedRegistry } from "../fixtures/proxied-registry.ts";
import { sha256Of, signal, storeContents, tempStore, testClient } from "./helpers.ts";

const reg = useProxiedRegistry();
let tokenProxy: FaultProxy;
let layer: Manifest["layers"][number];

beforeAll(async () => {
  tokenProxy = await startFaultProxy(reg.group.token);
  const m = await getManifest(testClient(), parseReference(`${reg.group.open}/busybox:latest`), "latest", signal());
  layer = (JSON.parse(new TextDecoder().decode(m.bytes)) as Manifest).layers[0] as Manifest["layers"][number];
});
afterAll(async () => {
  tokenProxy?.stop();
});

/** Idle timeout of the clients that meet stalls: short, so the tests do not wait long. */
const IDLE_MS = 1000;
const viaProxy = () => parseReference(`${reg.proxy.addr}/busybox:latest`);
const blobPath = () => `/v2/busybox/blobs/${layer.digest}`;
const isBlob = (p: string) => p === blobPath();
const isManifest = (p: string) => p === "/v2/busybox/manifests/latest";
const requestsFor = (px: FaultProxy, path: string) => px.seen.filter((r) => r.path === path);

/** Pulls the layer through the proxy; returns the Range header of each request it made and the retry notices. */
async function pullLayer(idleMs = IDLE_MS): Promise<{ ranges: Array<string | null>; notices: string[]; store: ReturnType<typeof tempStore> }> {
  const store = tempStore();
  const before = requestsFor(reg.proxy, blobPath()).length;
  const notices: string[] = [];
  await fetchBlobToStore(testClient(undefined, idleMs), viaProxy(), layer, store, signal(), { retry: (m) => notices.push(m) });
  expect(sha256Of(await store.readBytes(layer.digest))).toBe(layer.digest);
  expect(storeContents(store).ingest).toEqual([]);
  return { ranges: requestsFor(reg.proxy, blobPath()).slice(before).map((r) => r.range), notices, store };
}

describe("wrong Content-Length and unusable partial responses", () => {
  test("too long: every byte arrives, the connection drops, and the blob is verified without another request", async () => {
    reg.proxy.rules.push({ method: "GET", path: isBlob, fault: { kind: "wrong-length", delta: 4096 }, times: Infinity });
    try {
      const { ranges, notices } = await pullLayer();
      expect(ranges).toEqual([null]);
      expect(notices).toEqual([]);
    } finally {
      reg.proxy.rules.length = 0;
    }
  });

  test("too short: the body ends early and the rest is fetched with a Range request", async () => {
    reg.proxy.rules.push({ method: "GET", path: isBlob, fault: { kind: "wrong-length", delta: -1000 }, times: 1 });
    const { ranges, notices } = await pullLayer();
    expect(ranges).toEqual([null, `bytes=${layer.size - 1000}-`]);
    expect(notices).toEqual([`blob "${layer.digest}" of "${reg.proxy.addr}/busybox": the download ended early after ${layer.size - 1000} of ${layer.size} bytes; retrying in 5ms`]);
  });

  test("HTTP 416 on a resume starts the blob again from byte 0", async () => {
    reg.proxy.rules.push({ method: "GET", path: isBlob, fault: { kind: "cut", afterBytes: 5000 }, times: 1 });
    reg.proxy.rules.push({ method: "GET", path: isBlob, fault: { kind: "status", status: 416 }, times: 1 });
    const { ranges, notices } = await pullLayer();
    expect(ranges).toEqual([null, "bytes=5000-", null]);
    expect(notices.at(-1)).toBe(`blob "${layer.digest}" of "${reg.proxy.addr}/busybox": the registry cannot resume at byte 5000 (HTTP 416); retrying in 5ms`);
  });

  test("a 206 that starts at another byte than asked starts the blob again from byte 0", async () => {
    reg.proxy.rules.push({ method: "GET", path: isBlob, fault: { kind: "cut", afterBytes: 5000 }, times: 1 });
    const wrongStart = (res: Response, body: Uint8Array) => {
      const headers = new Headers(res.headers);
      headers.set("content-range", `bytes 0-${body.length - 1}/${layer.size}`);
      return new Response(body, { status: res.status, headers });
    };
    reg.proxy.rules.push({ method: "GET", path: isBlob, fault: { kind: "rewrite", rewrite: wrongStart }, times: 1 });
    const { ranges } = await pullLayer();
    expect(ranges).toEqual([null, "bytes=5000-", null]);
  });

  test("HTTP 416 on every resume: a clear error naming registry, repository and digest; nothing stored", async () => {
    reg.proxy.rules.push({ method: "GET", path: isBlob, ranged: false, fault: { kind: "cut", afterBytes: 5000 }, times: 2 });
    reg.proxy.rules.push({ method: "GET", path: isBlob, ranged: true, fault: { kind: "status", status: 416 }, times: 2 });
    const store = tempStore();
    const err = await fetchBlobToStore(testClient(), viaProxy(), layer, store, signal()).catch((e) => e);
    reg.proxy.rules.length = 0;
    expect(err.code).toBe("E_REGISTRY_TRANSFER");
    expect(err.message).toBe(`blob "${layer.digest}" of "${reg.proxy.addr}/busybox": the registry cannot resume at byte 5000 (HTTP 416)`);
    expect(storeContents(store)).toEqual({ blobs: [], ingest: [] });
  });
});

describe("connections that go silent", () => {
  test("silent before the headers: given up on after the idle timeout and retried", async () => {
    reg.proxy.rules.push({ method: "GET", path: isBlob, fault: { kind: "stall-headers", ms: 30_000 }, times: 1 });
    const { ranges, notices } = await pullLayer();
    expect(ranges).toEqual([null, null]);
    expect(notices).toEqual([`blob "${layer.digest}" of "${reg.proxy.addr}/busybox": no response from "${reg.proxy.addr}" for 1s; retrying in 5ms`]);
  });

  test("silent in the middle of the body: given up on after the idle timeout and resumed with Range", async () => {
    reg.proxy.rules.push({ method: "GET", path: isBlob, fault: { kind: "stall-body", afterBytes: 7000, ms: 30_000 }, times: 1 });
    const { ranges, notices } = await pullLayer();
    expect(ranges).toEqual([null, "bytes=7000-"]);
    expect(notices).toEqual([`blob "${layer.digest}" of "${reg.proxy.addr}/busybox": the download stalled (no data for 1s) after 7000 of ${layer.size} bytes; retrying in 5ms`]);
  });

  test("silent every time: a clear error after the retries, nothing stored; then the healthy registry works", async () => {
    reg.proxy.rules.push({ method: "GET", path: isBlob, fault: { kind: "stall-body", afterBytes: 100, ms: 30_000 }, times: 3 });
    const store = tempStore();
    const err = await fetchBlobToStore(testClient(undefined, IDLE_MS), viaProxy(), layer, store, signal()).catch((e) => e);
    expect(err.code).toBe("E_REGISTRY_TRANSFER");
    expect(err.message).toBe(`blob "${layer.digest}" of "${reg.proxy.addr}/busybox": the download stalled (no data for 1s) after 300 of ${layer.size} bytes`);
    expect(storeContents(store)).toEqual({ blobs: [], ingest: [] });
    await fetchBlobToStore(testClient(undefined, IDLE_MS), viaProxy(), layer, store, signal());
    expect(storeContents(store).blobs).toEqual([layer.digest]);
  });

  test("a manifest whose body goes silent is fetched again", async () => {
    reg.proxy.rules.push({ method: "GET", path: isManifest, fault: { kind: "stall-body", afterBytes: 10, ms: 30_000 }, times: 1 });
    const before = requestsFor(reg.proxy, "/v2/busybox/manifests/latest").length;
    const m = await getManifest(testClient(undefined, IDLE_MS), viaProxy(), "latest", signal());
    expect(m.digest).toBe(sha256Of(m.bytes));
    expect(requestsFor(reg.proxy, "/v2/busybox/manifests/latest").length - before).toBe(2);
  });

  test("a manifest that stalls every time: E_REGISTRY_TIMEOUT naming the manifest", async () => {
    reg.proxy.rules.push({ method: "GET", path: isManifest, fault: { kind: "stall-headers", ms: 30_000 }, times: Infinity });
    const err = await getManifest(testClient(undefined, IDLE_MS), viaProxy(), "latest", signal()).catch((e) => e);
    reg.proxy.rules.length = 0;
    expect(err.code).toBe("E_REGISTRY_TIMEOUT");
    expect(err.message).toBe(`manifest of "${reg.proxy.addr}/busybox:latest": no response from "${reg.proxy.addr}" for 1s`);
    expect(err.hint).toContain("KITBUILD_REGISTRY_IDLE_TIMEOUT");
  });
});

describe("429 Too Many Requests", () => {
  test("Retry-After in seconds is waited for (not the usual backoff)", async () => {
    reg.proxy.rules.push({ method: "GET", path: isBlob, fault: { kind: "status", status: 429, headers: { "retry-after": "2" } }, times: 1 });
    const { ranges, notices } = await pullLayer();
    expect(ranges).toEqual([null, null]);
    expect(notices).toEqual([`blob "${layer.digest}" of "${reg.proxy.addr}/busybox": HTTP 429; retrying in 2s (Retry-After)`]);
    // A lower bound only: the retry came no sooner than the registry asked.
    const [first, second] = requestsFor(reg.proxy, blobPath()).slice(-2);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(1900);
  });

  test("Retry-After as an HTTP date is waited for too", async () => {
    const date = new Date(Date.now() + 3000).toUTCString();
    reg.proxy.rules.push({ method: "GET", path: isBlob, fault: { kind: "status", status: 429, headers: { "retry-after": date } }, times: 1 });
    const { notices } = await pullLayer();
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/HTTP 429; retrying in \d+(\.\d+)?s \(Retry-After\)$/);
  });

  test("429 every time: E_REGISTRY_RATE_LIMITED with a hint to log in", async () => {
    reg.proxy.rules.push({ method: "GET", path: isBlob, fault: { kind: "status", status: 429, headers: { "retry-after": "0" } }, times: 3 });
    const store = tempStore();
    const err = await fetchBlobToStore(testClient(), viaProxy(), layer, store, signal()).catch((e) => e);
    expect(err.code).toBe("E_REGISTRY_RATE_LIMITED");
    expect(err.message).toBe(`blob "${layer.digest}" of "${reg.proxy.addr}/busybox": too many requests (HTTP 429)`);
    expect(err.hint).toContain("rate limiting");
    expect(err.hint).toContain(`kitbuild login ${reg.proxy.addr}`);
    expect(storeContents(store)).toEqual({ blobs: [], ingest: [] });
  });

  test("a Retry-After beyond the cap is given up on at once, saying how long the registry asked for", async () => {
    reg.proxy.rules.push({ method: "GET", path: isBlob, fault: { kind: "status", status: 429, headers: { "retry-after": "3600" } }, times: 1 });
    const before = requestsFor(reg.proxy, blobPath()).length;
    const err = await fetchBlobToStore(testClient(), viaProxy(), layer, tempStore(), signal()).catch((e) => e);
    expect(err.code).toBe("E_REGISTRY_RATE_LIMITED");
    expect(err.hint).toContain("asks to wait 3600s");
    expect(requestsFor(reg.proxy, blobPath()).length - before).toBe(1);
  });
});

describe("bad manifests and expiring tokens", () => {
  test("a manifest that is not JSON fails at once, naming the repository and its digest", async () => {
    const html = "<html><body>502 Bad Gateway</body></html>";
    const notJson = () => new Response(html, { headers: { "content-type": "text/html", "docker-content-digest": sha256Of(html) } });
    reg.proxy.rules.push({ method: "GET", path: isManifest, fault: { kind: "rewrite", rewrite: notJson }, times: 1 });
    const err = await getManifest(testClient(), viaProxy(), "latest", signal()).catch((e) => e);
    expect(err.code).toBe("E_REGISTRY_BAD_MANIFEST");
    expect(err.message).toBe(`manifest of "${reg.proxy.addr}/busybox:latest" (digest "${sha256Of(html)}") is not valid JSON`);
    expect((await getManifest(testClient(), viaProxy(), "latest", signal())).digest).toMatch(/^sha256:/);
  });

  test("a token service that goes silent is given up on after the idle timeout and asked again", async () => {
    const ref = parseReference(`${reg.group.token}/busybox:latest`);
    reg.group.issuer.stall = { times: 1, ms: 5000 };
    const m = await getManifest(testClient(undefined, IDLE_MS), ref, "latest", signal());
    expect(m.digest).toBe(sha256Of(m.bytes));
    expect(reg.group.issuer.stall.times).toBe(0);
    reg.group.issuer.stall = { times: 3, ms: 5000 };
    const err = await getManifest(testClient(undefined, IDLE_MS), ref, "latest", signal()).catch((e) => e);
    reg.group.issuer.stall = { times: 0, ms: 0 };
    expect(err.code).toBe("E_REGISTRY_AUTH");
    expect(err.message).toBe(`manifest of "${reg.group.token}/busybox:latest": the token service at "${new URL(reg.group.issuer.realm).host}" did not answer for 1s`);
  });

  test("a token that expires in the middle of a pull is renewed and the download resumes", async () => {
    const ref = parseReference(`${tokenProxy.addr}/busybox:latest`);
    const client = testClient(undefined, 10_000);
    // The registry allows 60 s past exp: this token works for about 2 s, while the client is told 300 s.
    reg.group.issuer.expiresIn = -58;
    const tokensBefore = reg.group.issuer.requests.length;
    try {
      await getManifest(client, ref, "latest", signal());
    } finally {
      reg.group.issuer.expiresIn = 300;
    }
    // The transfer goes silent for longer than the token lives, then drops; the resume meets a 401.
    tokenProxy.rules.push({ method: "GET", path: isBlob, fault: { kind: "stall-body", afterBytes: 9000, ms: 4000 }, times: 1 });
    const store = tempStore();
    await fetchBlobToStore(client, ref, layer, store, signal());
    expect(sha256Of(await store.readBytes(layer.digest))).toBe(layer.digest);
    const blobRequests = requestsFor(tokenProxy, blobPath());
    expect(blobRequests.map((r) => [r.range, r.authorization])).toEqual([
      [null, true],
      ["bytes=9000-", true],
      ["bytes=9000-", true],
    ]);
    expect(reg.group.issuer.requests.length - tokensBefore).toBe(2);
  });
});
