// Output attributes of buildx/BuildKit through the compiled binary: registry.insecure (a registry
// with a self-signed certificate, and one speaking plain HTTP, on a non-loopback address, since
// loopback registries are always plain HTTP), push-by-digest (no tag in the registry),
// name-canonical (NAME@DIGEST), compression=estargz refused, platform-split for local and tar.
// Needs root and runc.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { freePort } from "../../scripts/test-env.ts";
import { expectExit, HAS_RUNC, helloContext, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";
import { hostPlatform } from "../../src/oci/platform.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `output attribute tests: ${NEEDS_ROOT_AND_RUNC}`);
/** An address of this machine that is not loopback (kitbuild speaks HTTPS to those). */
const HOST_IP = Object.values(networkInterfaces()).flat().find((a) => a && a.family === "IPv4" && !a.internal)?.address;
const skipRemote = skip || skipBecause(HOST_IP === undefined, "registry.insecure tests: this machine has no non-loopback IPv4 address");

let registry = "";
const servers: ChildProcess[] = [];
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
}, 60_000);
afterAll(async () => {
  for (const child of servers) {
    child.kill("SIGTERM");
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
  }
});

/** A docker-registry on HOST_IP, with a self-signed certificate for that address when `tls`. */
async function remoteRegistry(tls: boolean): Promise<string> {
  const dir = tempDir("kitbuild-remote-registry-");
  const addr = `${HOST_IP}:${await freePort()}`;
  const tlsConfig = tls ? `, tls: {certificate: ${dir}/reg.crt, key: ${dir}/reg.key}` : "";
  if (tls) {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${dir}/reg.key`, "-out", `${dir}/reg.crt`,
      "-subj", "/CN=kitbuild-test-registry", "-addext", `subjectAltName=IP:${HOST_IP}`, "-days", "2",
    ], { stdio: "ignore" });
  }
  writeFileSync(`${dir}/config.yml`, [
    "version: 0.1",
    "log: {level: error, accesslog: {disabled: true}}",
    `storage: {filesystem: {rootdirectory: ${dir}/data}}`,
    `http: {addr: "${addr}"${tlsConfig}}`,
    "",
  ].join("\n"));
  const child = spawn("/usr/bin/docker-registry", ["serve", `${dir}/config.yml`], { stdio: "ignore" });
  servers.push(child);
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`${tls ? "https" : "http"}://${addr}/v2/`, { tls: { rejectUnauthorized: false } }).then((r) => r.status === 200, () => false);
    if (ok) return addr;
    await Bun.sleep(50);
  }
  throw new Error(`docker-registry on ${addr} did not start`);
}

const build = (args: string[], ctx: string, work: string) =>
  runKitbuild(["build", "--progress=plain", ...args, ctx], { env: { KITBUILD_ROOT: `${work}/root` }, timeoutMs: 300_000 });

describe.skipIf(skip)("output attributes (compiled binary)", () => {
  test.skipIf(skipRemote)("registry.insecure=true pushes to a registry whose certificate is self-signed", async () => {
    const remote = await remoteRegistry(true);
    const work = tempDir();
    const ctx = helloContext(`${registry}/busybox`);
    const refused = await build(["-o", `type=registry,name=${remote}/app:1`], ctx, work);
    expectExit(refused, 1);
    expect(refused.stderr).toContain("is not trusted");
    expect(refused.stderr).toContain("registry.insecure=true");
    const pushed = await build(["-o", `type=registry,name=${remote}/app:1,registry.insecure=true`, "--metadata-file", `${work}/meta.json`], ctx, work);
    expectExit(pushed, 0);
    const meta = JSON.parse(readFileSync(`${work}/meta.json`, "utf8"));
    const inspect = spawnSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${remote}/app:1`], { encoding: "utf8" });
    expect(inspect.status, inspect.stderr).toBe(0);
    expect(`sha256:${new Bun.CryptoHasher("sha256").update(inspect.stdout).digest("hex")}`).toBe(meta["containerimage.digest"]);
  }, 600_000);

  test.skipIf(skipRemote)("registry.insecure=true falls back to plain HTTP for a registry without TLS", async () => {
    const remote = await remoteRegistry(false);
    const work = tempDir();
    const ctx = helloContext(`${registry}/busybox`);
    const refused = await build(["-o", `type=registry,name=${remote}/plain:1`], ctx, work);
    expectExit(refused, 1);
    expect(refused.stderr).toContain("TLS handshake");
    const pushed = await build(["-o", `type=registry,name=${remote}/plain:1,registry.insecure=true`], ctx, work);
    expectExit(pushed, 0);
    const tags = (await (await fetch(`http://${remote}/v2/plain/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).toEqual(["1"]);
  }, 600_000);

  test("push-by-digest=true pushes the manifest without its tag; name-canonical names NAME@DIGEST", async () => {
    const work = tempDir();
    const repo = `bydigest-${crypto.randomUUID().slice(0, 8)}`;
    const res = await build(["-o", `type=registry,name=${registry}/${repo}:v1,push-by-digest=true,name-canonical=true`, "--metadata-file", `${work}/meta.json`], helloContext(`${registry}/busybox`), work);
    expectExit(res, 0);
    const digest = JSON.parse(readFileSync(`${work}/meta.json`, "utf8"))["containerimage.digest"] as string;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const accept = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";
    const byDigest = await fetch(`http://${registry}/v2/${repo}/manifests/${digest}`, { headers: { accept } });
    expect(byDigest.status).toBe(200);
    const byTag = await fetch(`http://${registry}/v2/${repo}/manifests/v1`, { headers: { accept } });
    expect(byTag.status).toBe(404);
    const tags = await fetch(`http://${registry}/v2/${repo}/tags/list`);
    const listed = tags.status === 200 ? (((await tags.json()) as { tags: string[] | null }).tags ?? []) : [];
    expect(listed).not.toContain("v1");
    expect(res.stderr).toContain(`naming to ${registry}/${repo}:v1@${digest}`);
  }, 600_000);

  test("compression=estargz is refused with what to use instead", async () => {
    const res = await runKitbuild(["build", "-o", "type=registry,name=x/y,compression=estargz", "."]);
    expectExit(res, 2);
    expect(res.stderr).toContain("compression=estargz is not supported");
    expect(res.stderr).toContain("compression=gzip or compression=zstd");
  });

  test("platform-split=true puts local and tar files under the platform's directory; the default does not", async () => {
    const work = tempDir();
    const p = hostPlatform();
    const dir = [p.os, p.architecture, p.variant].filter(Boolean).join("_");
    const ctx = helloContext(`${registry}/busybox`);
    const res = await build([
      "-o", `type=local,dest=${work}/split,platform-split=true`,
      "-o", `type=local,dest=${work}/plain`,
      "-o", `type=tar,dest=${work}/split.tar,platform-split=true`,
      "-o", `type=local,dest=${work}/nosplit,platform-split=false`,
    ], ctx, work);
    expectExit(res, 0);
    expect(readFileSync(`${work}/split/${dir}/hello.txt`, "utf8")).toBe("hello\n");
    expect(existsSync(`${work}/split/hello.txt`)).toBe(false);
    expect(readFileSync(`${work}/plain/hello.txt`, "utf8")).toBe("hello\n");
    expect(readFileSync(`${work}/nosplit/hello.txt`, "utf8")).toBe("hello\n");
    const listing = spawnSync("tar", ["-tf", `${work}/split.tar`], { encoding: "utf8" }).stdout.split("\n");
    expect(listing).toContain(`${dir}/hello.txt`);
    expect(listing.every((n) => n === "" || n === dir || n === `${dir}/` || n.startsWith(`${dir}/`))).toBe(true);
  }, 600_000);

  test("unknown attributes and bad values stay usage errors", async () => {
    for (const [spec, message] of [
      ["type=local,dest=out,platform-split=maybe", 'invalid value "maybe" for platform-split'],
      ["type=registry,name=x/y,registry.insecure=yes", 'invalid value "yes" for registry.insecure'],
      ["type=local,dest=out,push-by-digest=true", 'unknown option "push-by-digest"'],
    ] as const) {
      const res = await runKitbuild(["build", "-o", spec, "."]);
      expectExit(res, 2);
      expect(res.stderr).toContain(message);
    }
  });
});
