// A full disk and an unwritable output, through the compiled binary: the cache root on a small tmpfs
// (a blob download and a COPY into a snapshot that do not fit), outputs into a small tmpfs (tar,
// oci, docker archives, a local directory) and onto a read-only one. Each ends in one clear error
// naming the path (in the cache root or the output), what was needed where known and what is free,
// exit code 1 and no stack trace; nothing partial is kept or recorded, and the next build after
// freeing space works without repair. Needs root (tmpfs mounts) and runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { checkCache } from "../../src/control/cache-check.ts";
import { readConfig } from "../../src/control/config.ts";
import { openEnvironment } from "../../src/control/environment.ts";
import { expectExit, HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `disk-full tests: ${NEEDS_ROOT_AND_RUNC}`);

const BIG = 20_000_000;
let registry = "";
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
});

/** Runs `fn` with a tmpfs mounted at a new directory (`options`: "size=8m", "ro,size=1m"), unmounted after. */
async function withTmpfs<T>(options: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = `${tempDir("kitbuild-tmpfs-")}/mnt`;
  mkdirSync(dir);
  const mounted = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", options, "tmpfs", dir]);
  if (mounted.exitCode !== 0) throw new Error(`mount tmpfs: ${mounted.stderr}`);
  try {
    return await fn(dir);
  } finally {
    Bun.spawnSync(["umount", "-l", dir]);
  }
}

function remount(dir: string, options: string): void {
  const res = Bun.spawnSync(["mount", "-o", `remount,${options}`, dir]);
  if (res.exitCode !== 0) throw new Error(`remount: ${res.stderr}`);
}

/** A context whose Dockerfile copies a 20 MB file of random bytes onto busybox. */
function bigContext(extra = ""): string {
  const ctx = tempDir("kitbuild-ctx-");
  writeFileSync(`${ctx}/big`, crypto.getRandomValues(new Uint8Array(BIG)));
  writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nCOPY big /big\n${extra}`);
  return ctx;
}

const STACK_LINE = /^\s+at .*:\d+:\d+\)?$/m;

/** A failure as the user sees it: exit 1, one ERROR line matching `message`, no stack trace, no bug report. */
function expectCleanFailure(res: { code: number | null; stderr: string }, message: RegExp): void {
  expectExit(res, 1);
  expect(res.stderr).toMatch(message);
  expect(res.stderr).not.toMatch(STACK_LINE);
  expect(res.stderr).not.toContain("internal error");
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

async function cacheProblems(root: string): Promise<string[]> {
  const settings = { KITBUILD_ROOT: root };
  await using env = await openEnvironment({ config: readConfig(settings), env: settings, insecureRegistries: [] });
  return checkCache(env);
}

const ingestFiles = (root: string) => (existsSync(`${root}/content/ingest`) ? readdirSync(`${root}/content/ingest`) : []);

describe.skipIf(skip)("a full cache root", () => {
  test("a blob download that does not fit names the blob's path and size; the next build after freeing space works", async () => {
    // An image with a 20 MB layer (random bytes: gzip cannot shrink it), pushed with a cache root of its own.
    const name = `${registry}/disk-full-big:${Date.now()}`;
    const pushed = await runKitbuild(["build", "--progress=plain", "-o", `type=image,name=${name},push=true`, bigContext()], {
      env: { KITBUILD_ROOT: `${tempDir()}/root` },
    });
    expectExit(pushed, 0, "push of the big image");
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${name}\nRUN true\n`);
    await withTmpfs("size=8m", async (root) => {
      const env = { KITBUILD_ROOT: root };
      // The base layer first, so that only the big layer's blob is left to download.
      const base = tempDir("kitbuild-ctx-");
      writeFileSync(`${base}/Dockerfile`, `FROM ${registry}/busybox\n`);
      expectExit(await runKitbuild(["build", "--progress=plain", base], { env }), 0, "the base image's build");
      const res = await runKitbuild(["build", "--progress=plain", ctx], { env });
      expectCleanFailure(res, new RegExp(`no space left on device writing "${escape(root)}/content/blobs/sha256/[0-9a-f]{64}" \\(needed about 20\\.\\d\\dMB, [\\d.]+[kKMG]?B free\\)`));
      expect(ingestFiles(root)).toEqual([]);
      expect(await cacheProblems(root)).toEqual([]);
      remount(root, "size=200m");
      expectExit(await runKitbuild(["build", "--progress=plain", ctx], { env }), 0, "the build after freeing space");
      expect(await cacheProblems(root)).toEqual([]);
    });
  }, 300_000);

  test("a layer whose small blob unpacks to more than fits names the snapshot it was written to; then it builds", async () => {
    // 20 MB of zeros: a blob of a few kB that unpacks to 20 MB.
    const name = `${registry}/disk-full-zeros:${Date.now()}`;
    const zeros = tempDir("kitbuild-ctx-");
    writeFileSync(`${zeros}/Dockerfile`, `FROM ${registry}/busybox\nRUN head -c ${BIG} /dev/zero > /zeros\n`);
    expectExit(await runKitbuild(["build", "--progress=plain", "-o", `type=image,name=${name},push=true`, zeros], { env: { KITBUILD_ROOT: `${tempDir()}/root` } }), 0, "push");
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${name}\n`);
    await withTmpfs("size=8m", async (root) => {
      const env = { KITBUILD_ROOT: root };
      const res = await runKitbuild(["build", "--progress=plain", ctx], { env });
      // Layers are applied through the mounted snapshot (or stopped by the space guard on its directory).
      expectCleanFailure(res, new RegExp(`no space left on device writing "${escape(root)}/(mounts|snapshots)/[^"]+"`));
      expect(await cacheProblems(root)).toEqual([]);
      remount(root, "size=200m");
      const out = `${tempDir()}/out`;
      expectExit(await runKitbuild(["build", "--progress=plain", "-o", out, ctx], { env }), 0, "the build after freeing space");
      expect(statSync(`${out}/zeros`).size).toBe(BIG);
    });
  }, 300_000);

  test("a cache root with no space left at all: opening the index says so; freeing space is the only repair needed", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nRUN echo hi > /hi\n`);
    await withTmpfs("size=8m", async (root) => {
      const env = { KITBUILD_ROOT: root };
      expectExit(await runKitbuild(["build", "--progress=plain", ctx], { env }), 0, "the first build");
      Bun.spawnSync(["sh", "-c", `head -c 16000000 /dev/zero > ${root}/filler`]);
      for (const args of [["build", "--progress=plain", ctx], ["du"], ["prune", "-af"]]) {
        const res = await runKitbuild(args, { env });
        expectCleanFailure(res, new RegExp(`no space left on device writing "${escape(root)}/index\\.db" \\(0B free\\)`));
      }
      Bun.spawnSync(["rm", `${root}/filler`]);
      const again = await runKitbuild(["build", "--progress=plain", ctx], { env });
      expectExit(again, 0, "the build after freeing space");
      expect(again.stderr).toMatch(/#\d+ CACHED/);
      expect(await cacheProblems(root)).toEqual([]);
    });
  }, 300_000);

  test("a COPY that does not fit names a path in the cache root; nothing partial is recorded; then it builds", async () => {
    const ctx = bigContext();
    await withTmpfs("size=8m", async (root) => {
      const env = { KITBUILD_ROOT: root };
      const res = await runKitbuild(["build", "--progress=plain", ctx], { env });
      expectCleanFailure(res, new RegExp(`no space left on device writing "${escape(root)}/[^"]+" \\([\\d.]+[kKMG]?B free\\)`));
      expect(res.stderr).toContain("free some space on the cache root's filesystem");
      expect(await cacheProblems(root)).toEqual([]);
      const db = new (await import("bun:sqlite")).Database(`${root}/index.db`, { readonly: true });
      try {
        expect(db.query("SELECT count(*) AS n FROM snapshots WHERE state != 'committed'").get()).toEqual({ n: 0 });
      } finally {
        db.close();
      }
      remount(root, "size=200m");
      const out = `${tempDir()}/out`;
      expectExit(await runKitbuild(["build", "--progress=plain", "-o", out, ctx], { env }), 0, "the build after freeing space");
      expect(Bun.hash(readFileSync(`${out}/big`))).toBe(Bun.hash(readFileSync(`${ctx}/big`)));
    });
  }, 300_000);
});

describe.skipIf(skip)("outputs that cannot be written", () => {
  const outputs = (dir: string) => [
    { spec: `type=tar,dest=${dir}/rootfs.tar`, dest: `${dir}/rootfs.tar`, file: true },
    { spec: `type=oci,dest=${dir}/image.tar`, dest: `${dir}/image.tar`, file: true },
    { spec: `type=docker,dest=${dir}/docker.tar`, dest: `${dir}/docker.tar`, file: true },
    { spec: `type=local,dest=${dir}/out`, dest: `${dir}/out`, file: false },
  ];

  test("a destination too small: no space left naming the output, what it needed and what is free; no partial archive", async () => {
    const ctx = bigContext();
    const root = `${tempDir()}/root`;
    await withTmpfs("size=4m", async (dir) => {
      for (const o of outputs(dir)) {
        const res = await runKitbuild(["build", "--progress=plain", "-o", o.spec, ctx], { env: { KITBUILD_ROOT: root } });
        expectCleanFailure(res, new RegExp(`no space left on device writing "${escape(o.dest)}" \\(needed about 2\\d\\.\\d\\dMB, [\\d.]+[kKMG]?B free\\)`));
        expect(res.stderr).toContain("free space on the output's filesystem, or choose another dest");
        if (o.file) expect(existsSync(o.dest)).toBe(false);
      }
      expect(await cacheProblems(root)).toEqual([]);
    });
  }, 300_000);

  test("a read-only destination: the output is on a read-only filesystem, naming it", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nRUN echo hi > /hi\n`);
    const root = `${tempDir()}/root`;
    await withTmpfs("ro,size=1m", async (dir) => {
      for (const o of outputs(dir)) {
        const res = await runKitbuild(["build", "--progress=plain", "-o", o.spec, ctx], { env: { KITBUILD_ROOT: root } });
        expectCleanFailure(res, new RegExp(`cannot write "${escape(o.dest)}": the output is on a read-only filesystem`));
        expect(res.stderr).toContain("hint: choose a dest on a writable filesystem");
      }
      const meta = await runKitbuild(["build", "--progress=plain", "--metadata-file", `${dir}/meta.json`, "-o", `type=oci,dest=${tempDir()}/image.tar`, ctx], { env: { KITBUILD_ROOT: root } });
      expectCleanFailure(meta, new RegExp(`cannot write "${escape(dir)}/meta.json": the output is on a read-only filesystem`));
    });
  }, 300_000);

  test("a destination kitbuild may not write (an immutable directory, which even root cannot): permission denied, naming it", async () => {
    const dir = tempDir("kitbuild-immutable-");
    if (Bun.spawnSync(["chattr", "+i", dir]).exitCode !== 0) {
      console.warn(`skipping: chattr +i does not work on the filesystem of ${dir}`);
      return;
    }
    try {
      const ctx = tempDir("kitbuild-ctx-");
      writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nRUN echo hi > /hi\n`);
      const root = `${tempDir()}/root`;
      for (const o of outputs(dir)) {
        const res = await runKitbuild(["build", "--progress=plain", "-o", o.spec, ctx], { env: { KITBUILD_ROOT: root } });
        expectCleanFailure(res, new RegExp(`cannot write "${escape(o.dest)}": permission denied`));
        expect(res.stderr).toContain("hint: choose a dest you may write to, or fix its permissions");
      }
    } finally {
      Bun.spawnSync(["chattr", "-i", dir]);
    }
  }, 300_000);
});
