// Builds (compiled binary) that pull from registries with auth and through faults: credentials from
// the docker config reach the registry but never the output, the cache or the exported files; two
// builds pulling the same image at once both succeed; a corrupt blob fails the build and leaves the
// cache usable. Needs root (builds need root in this version); no RUN step, so no runc.
import { describe, expect, test } from "bun:test";
import { lstatSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { useProxiedRegistry } from "../fixtures/proxied-registry.ts";
import { IS_ROOT, NEEDS_ROOT, runKitbuild, skipBecause, tempDir, expectExit, helloContext } from "../harness.ts";

const skip = skipBecause(!IS_ROOT, `e2e registry builds: ${NEEDS_ROOT}`);

const reg = useProxiedRegistry(skip);

function dockerConfig(auths: Record<string, unknown>): string {
  const dir = tempDir("kitbuild-docker-");
  writeFileSync(`${dir}/config.json`, JSON.stringify({ auths }));
  return dir;
}

/** Every regular file under `dir` (not following symlinks) that contains `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = `${d}/${name}`;
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && readFileSync(p).includes(needle)) found.push(p);
    }
  };
  walk(dir);
  return found;
}

describe.skipIf(skip)("builds that pull from registries (compiled binary)", () => {
  test("credentials from the docker config are used and appear nowhere else", async () => {
    const secretAuth = Buffer.from(`${reg.group.user.username}:${reg.group.user.password}`).toString("base64");
    const work = tempDir();
    const ctx = helloContext(`${reg.group.basic}/busybox`);
    const noCreds = await runKitbuild(["build", "--progress=plain", ctx], { env: { KITBUILD_ROOT: `${work}/root`, DOCKER_CONFIG: dockerConfig({}) } });
    expectExit(noCreds, 1);
    expect(noCreds.stderr).toContain(`hint: log in with \`kitbuild login ${reg.group.basic}\``);
    const config = dockerConfig({ [reg.group.basic]: { auth: secretAuth } });
    const outputs: string[] = [];
    for (const progress of ["plain", "rawjson"]) {
      const res = await runKitbuild(["build", `--progress=${progress}`, "-o", `${work}/out-${progress}`, ctx], { env: { KITBUILD_ROOT: `${work}/root`, DOCKER_CONFIG: config } });
      expectExit(res, 0);
      outputs.push(res.stdout, res.stderr);
    }
    expect(readFileSync(`${work}/out-plain/hello.txt`, "utf8")).toBe("hello\n");
    const wrong = dockerConfig({ [reg.group.basic]: { auth: Buffer.from(`${reg.group.user.username}:${reg.group.user.password}x`).toString("base64") } });
    const refused = await runKitbuild(["build", "--progress=plain", ctx], { env: { KITBUILD_ROOT: `${work}/root2`, DOCKER_CONFIG: wrong } });
    expectExit(refused, 1);
    outputs.push(refused.stdout, refused.stderr);
    for (const secret of [reg.group.user.password, secretAuth]) {
      for (const text of outputs) expect(text).not.toContain(secret);
      expect(filesContaining(work, secret)).toEqual([]);
    }
  });

  test("two builds pulling the same image into one cache at once both succeed", async () => {
    const work = tempDir();
    const ctx = helloContext(`${reg.group.open}/busybox`);
    const env = { KITBUILD_ROOT: `${work}/root`, DOCKER_CONFIG: dockerConfig({}) };
    const [a, b] = await Promise.all([
      runKitbuild(["build", "--progress=plain", "-o", `${work}/a`, ctx], { env }),
      runKitbuild(["build", "--progress=plain", "-o", `${work}/b`, ctx], { env }),
    ]);
    expectExit(a, 0, "build a");
    expectExit(b, 0, "build b");
    expect(lstatSync(`${work}/a/bin/sh`).isFile()).toBe(true);
    expect(readFileSync(`${work}/b/hello.txt`, "utf8")).toBe("hello\n");
    expect(readdirSync(`${work}/root/content/ingest`)).toEqual([]);
  });

  test("a corrupted layer fails the build with a digest mismatch; the next build succeeds", async () => {
    const work = tempDir();
    const ctx = helloContext(`${reg.proxy.addr}/busybox`);
    const env = { KITBUILD_ROOT: `${work}/root`, DOCKER_CONFIG: dockerConfig({}) };
    reg.proxy.rules.push({ method: "GET", path: (p) => p.includes("/blobs/") && !p.includes("uploads"), fault: { kind: "corrupt" }, times: Infinity });
    const bad = await runKitbuild(["build", "--progress=plain", ctx], { env });
    reg.proxy.rules.length = 0;
    expectExit(bad, 1);
    expect(bad.stderr).toContain("content digest mismatch");
    // Only whole, verified blobs are in the store (the manifest came through; every blob got corrupted).
    const blobs = `${work}/root/content/blobs/sha256`;
    for (const hex of readdirSync(blobs)) expect(new Bun.CryptoHasher("sha256").update(readFileSync(`${blobs}/${hex}`)).digest("hex")).toBe(hex);
    expect(readdirSync(blobs).length).toBeLessThanOrEqual(1);
    expect(readdirSync(`${work}/root/content/ingest`)).toEqual([]);
    const good = await runKitbuild(["build", "--progress=plain", "-o", `${work}/out`, ctx], { env });
    expectExit(good, 0);
    expect(readFileSync(`${work}/out/hello.txt`, "utf8")).toBe("hello\n");
  });
});
