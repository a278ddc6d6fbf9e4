// Pushes through the fault-injecting proxy in front of the real docker-registry meet the faults
// pulls meet: an upload whose connection goes silent or drops, a 429 with Retry-After, a registry
// that received damaged bytes (DIGEST_INVALID), and 5xx every time. An interrupted upload starts
// again from the beginning (a new upload session); when the retries are spent the error names the
// registry, repository and digest. Whatever happened, the blob the registry ends with is the one sent.
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import type { Descriptor, Digest } from "../../src/oci/types.ts";
import { blobExists, pushBlob } from "../../src/registry/push.ts";
import { parseReference } from "../../src/registry/reference.ts";
import { useProxiedRegistry } from "../fixtures/proxied-registry.ts";
import { sha256Of, signal, testClient } from "./helpers.ts";

const reg = useProxiedRegistry();


function blob(size: number): { desc: Descriptor; data: Blob } {
  const bytes = randomBytes(size);
  return { desc: { mediaType: "application/octet-stream", digest: sha256Of(bytes), size }, data: new Blob([bytes]) };
}

/** The blob as the registry itself serves it (not through the proxy). */
async function storedDigest(repo: string, digest: Digest): Promise<string> {
  const res = await fetch(`http://${reg.group.open}/v2/${repo}/blobs/${digest}`);
  expect(res.status).toBe(200);
  return sha256Of(new Uint8Array(await res.arrayBuffer()));
}

const uploadsOf = (repo: string) => (p: string) => p.startsWith(`/v2/${repo}/blobs/uploads/`);
const methodsSince = (before: number) => reg.proxy.seen.slice(before).map((r) => r.method);

describe("push faults", () => {
  test("an upload whose answer never comes is given up on after the idle timeout and sent again", async () => {
    const repo = "faults/silent";
    const { desc, data } = blob(20_000);
    reg.proxy.rules.push({ method: "PUT", path: uploadsOf(repo), fault: { kind: "stall-headers", ms: 30_000 }, times: 1 });
    const before = reg.proxy.seen.length;
    expect(await pushBlob(testClient(undefined, 1000), parseReference(`${reg.proxy.addr}/${repo}`), desc, data, {}, signal())).toBe("uploaded");
    expect(methodsSince(before)).toEqual(["HEAD", "POST", "PUT", "POST", "PUT"]);
    expect(await storedDigest(repo, desc.digest)).toBe(desc.digest);
  });

  test("an upload that completed but whose answer was lost with the connection is found complete", async () => {
    const repo = "faults/dropped";
    const { desc, data } = blob(20_000);
    reg.proxy.rules.push({ method: "PUT", path: uploadsOf(repo), fault: { kind: "drop" }, times: 1 });
    const before = reg.proxy.seen.length;
    expect(await pushBlob(testClient(), parseReference(`${reg.proxy.addr}/${repo}`), desc, data, {}, signal())).toBe("uploaded");
    // On a reused connection Bun's fetch sends the PUT again by itself; the registry has closed that
    // session, so kitbuild asks whether the blob is there (it is) instead of failing. On a fresh
    // connection the drop reaches kitbuild, which starts a new upload.
    expect([
      ["HEAD", "POST", "PUT", "PUT", "HEAD"],
      ["HEAD", "POST", "PUT", "POST", "PUT"],
    ]).toContainEqual(methodsSince(before));
    expect(await storedDigest(repo, desc.digest)).toBe(desc.digest);
  });

  test("an upload session the registry forgot (BLOB_UPLOAD_UNKNOWN on a chunk) starts a new upload", async () => {
    const repo = "faults/forgotten";
    const { desc, data } = blob(100_000);
    reg.proxy.rules.push({ method: "PATCH", path: uploadsOf(repo), fault: { kind: "status", status: 404, code: "BLOB_UPLOAD_UNKNOWN" }, times: 1 });
    const before = reg.proxy.seen.length;
    expect(await pushBlob(testClient(), parseReference(`${reg.proxy.addr}/${repo}`), desc, data, { chunkSize: 64 * 1024 }, signal())).toBe("uploaded");
    expect(methodsSince(before)).toEqual(["HEAD", "POST", "PATCH", "POST", "PATCH", "PATCH", "PUT"]);
    expect(await storedDigest(repo, desc.digest)).toBe(desc.digest);
  });

  test("a chunk answered with 429 and Retry-After is sent again after the wait", async () => {
    const repo = "faults/limited";
    const { desc, data } = blob(100_000);
    reg.proxy.rules.push({ method: "PATCH", path: uploadsOf(repo), fault: { kind: "status", status: 429, headers: { "retry-after": "1" } }, times: 1 });
    const before = reg.proxy.seen.length;
    expect(await pushBlob(testClient(), parseReference(`${reg.proxy.addr}/${repo}`), desc, data, { chunkSize: 64 * 1024 }, signal())).toBe("uploaded");
    const seen = reg.proxy.seen.slice(before);
    expect(seen.map((r) => r.method)).toEqual(["HEAD", "POST", "PATCH", "POST", "PATCH", "PATCH", "PUT"]);
    // A lower bound only: the upload started again no sooner than the registry asked.
    expect((seen[3]?.at ?? 0) - (seen[2]?.at ?? 0)).toBeGreaterThanOrEqual(900);
    expect(await storedDigest(repo, desc.digest)).toBe(desc.digest);
  });

  test("bytes the registry found damaged (DIGEST_INVALID) are uploaded again", async () => {
    const repo = "faults/damaged";
    const { desc, data } = blob(20_000);
    reg.proxy.rules.push({ method: "PUT", path: uploadsOf(repo), fault: { kind: "status", status: 400, code: "DIGEST_INVALID" }, times: 1 });
    expect(await pushBlob(testClient(), parseReference(`${reg.proxy.addr}/${repo}`), desc, data, {}, signal())).toBe("uploaded");
    expect(await storedDigest(repo, desc.digest)).toBe(desc.digest);
  });

  test("503 every time: the error names registry, repository and digest; the registry has no blob; a healthy push works", async () => {
    const repo = "faults/down";
    const ref = parseReference(`${reg.proxy.addr}/${repo}`);
    const { desc, data } = blob(20_000);
    reg.proxy.rules.push({ method: "PUT", path: uploadsOf(repo), fault: { kind: "status", status: 503 }, times: 3 });
    const err = await pushBlob(testClient(), ref, desc, data, {}, signal()).catch((e) => e);
    expect(err.code).toBe("E_REGISTRY_HTTP");
    expect(err.message).toBe(`pushing blob "${desc.digest}" to "${reg.proxy.addr}/${repo}": HTTP 503 (UNKNOWN)`);
    expect(await blobExists(testClient(), ref, desc.digest, signal())).toBe(false);
    expect(await pushBlob(testClient(), ref, desc, data, {}, signal())).toBe("uploaded");
    expect(await storedDigest(repo, desc.digest)).toBe(desc.digest);
  });
});
