// The compiled binary building `FROM <proxy>/busybox` through the fault-injecting proxy: a layer
// whose transfer goes silent every time (given up on after KITBUILD_REGISTRY_IDLE_TIMEOUT, resumed,
// then failed), a registry that rate limits with a Retry-After beyond the cap, and a reference with
// an empty port. Each fails with exit code 1, a message naming the registry, the repository and
// (for a blob) the digest, and no stack trace; the cache holds only verified blobs; once the proxy
// is healthy the same build succeeds. Needs root (builds need root in this version); no RUN step,
// so no runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { useProxiedRegistry } from "../fixtures/proxied-registry.ts";
import { expectExit, IS_ROOT, NEEDS_ROOT, runKitbuild, skipBecause, tempDir, helloContext } from "../harness.ts";

const skip = skipBecause(!IS_ROOT, `e2e registry faults: ${NEEDS_ROOT}`);

const reg = useProxiedRegistry(skip);
let layerDigest: string;
beforeAll(async () => {
  if (skip) return;
  const res = await fetch(`http://${reg.group.open}/v2/busybox/manifests/latest`, {
    headers: { accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" },
  });
  layerDigest = ((await res.json()) as { layers: Array<{ digest: string }> }).layers[0]?.digest ?? "";
});

/** A JavaScript stack frame ("    at fn (file.ts:12:3)"), which no user-reachable failure may print. */
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

/** Every blob in the cache root's content store hashes to its name, and nothing is half-written. */
function expectOnlyVerifiedBlobs(root: string): void {
  const blobs = `${root}/content/blobs/sha256`;
  for (const hex of readdirSync(blobs)) expect(new Bun.CryptoHasher("sha256").update(readFileSync(`${blobs}/${hex}`)).digest("hex")).toBe(hex);
  expect(readdirSync(blobs)).not.toContain(layerDigest.slice("sha256:".length));
  expect(readdirSync(`${root}/content/ingest`)).toEqual([]);
}

describe.skipIf(skip)("registry faults in a build (compiled binary)", () => {
  test("a layer that stalls every time fails naming registry, repository and digest; the healthy build then succeeds", async () => {
    const work = tempDir();
    const ctx = helloContext(`${reg.proxy.addr}/busybox`);
    const env = { KITBUILD_ROOT: `${work}/root`, KITBUILD_REGISTRY_IDLE_TIMEOUT: "1" };
    const isLayer = (p: string) => p === `/v2/busybox/blobs/${layerDigest}`;
    reg.proxy.rules.push({ method: "GET", path: isLayer, fault: { kind: "stall-body", afterBytes: 4096, ms: 60_000 }, times: Infinity });
    const bad = await runKitbuild(["build", "--progress=plain", ctx], { env, timeoutMs: 180_000 });
    reg.proxy.rules.length = 0;
    expectExit(bad, 1);
    expect(bad.stderr).toContain(`blob "${layerDigest}" of "${reg.proxy.addr}/busybox": the download stalled (no data for 1s)`);
    expect(bad.stderr).toContain("retrying in");
    expect(bad.stderr).not.toMatch(STACK_FRAME);
    // Resumed with Range after each stall, never started over from a byte already stored.
    const tries = reg.proxy.seen.filter((r) => isLayer(r.path)).map((r) => r.range);
    expect(tries[0]).toBeNull();
    expect(tries.slice(1).every((r) => r !== null && /^bytes=\d+-$/.test(r))).toBe(true);
    expectOnlyVerifiedBlobs(`${work}/root`);

    const good = await runKitbuild(["build", "--progress=plain", "-o", `${work}/out`, ctx], { env, timeoutMs: 180_000 });
    expectExit(good, 0);
    expect(readFileSync(`${work}/out/hello.txt`, "utf8")).toBe("hello\n");
    expect(readdirSync(`${work}/out/bin`)).toContain("sh");
  }, 240_000);

  test("a registry that rate limits beyond the Retry-After cap fails at once with the rate-limit hint", async () => {
    const work = tempDir();
    const ctx = helloContext(`${reg.proxy.addr}/busybox:latest`);
    const env = { KITBUILD_ROOT: `${work}/root` };
    const isManifest = (p: string) => p === "/v2/busybox/manifests/latest";
    reg.proxy.rules.push({ method: "GET", path: isManifest, fault: { kind: "status", status: 429, headers: { "retry-after": "600" } }, times: Infinity });
    const bad = await runKitbuild(["build", "--progress=plain", ctx], { env });
    reg.proxy.rules.length = 0;
    expectExit(bad, 1);
    expect(bad.stderr).toContain(`manifest of "${reg.proxy.addr}/busybox:latest": too many requests (HTTP 429)`);
    expect(bad.stderr).toContain(`is rate limiting requests and asks to wait 600s`);
    expect(bad.stderr).toContain(`kitbuild login ${reg.proxy.addr}`);
    expect(bad.stderr).not.toMatch(STACK_FRAME);
    const good = await runKitbuild(["build", "--progress=plain", "-o", `${work}/out`, ctx], { env });
    expectExit(good, 0);
    expect(readFileSync(`${work}/out/hello.txt`, "utf8")).toBe("hello\n");
  }, 120_000);

  test("FROM with an empty registry port is an invalid reference, with no request made", async () => {
    const work = tempDir();
    const before = reg.proxy.seen.length;
    const res = await runKitbuild(["build", "--progress=plain", helloContext("127.0.0.1:/busybox")], { env: { KITBUILD_ROOT: `${work}/root` } });
    expectExit(res, 1);
    expect(res.stderr).toContain('invalid image reference "127.0.0.1:/busybox": the registry "127.0.0.1:" has an empty port');
    expect(res.stderr).not.toMatch(STACK_FRAME);
    expect(reg.proxy.seen.length).toBe(before);
  });
});
