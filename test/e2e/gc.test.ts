// Automatic garbage collection after a build (as buildkitd's default policy): with
// KITBUILD_GC_KEEP_STORAGE=60MB, three builds that each add 40 MB of distinct data leave the cache
// root (measured on disk with du) under the limit plus what the last build holds, and what
// `kitbuild du` reports matches the disk. Needs root and runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { checkCache } from "../../src/control/cache-check.ts";
import { readConfig } from "../../src/control/config.ts";
import { openEnvironment } from "../../src/control/environment.ts";
import { formatBytes, parseBytes } from "../../src/util/units.ts";
import { expectExit, HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `gc e2e tests: ${NEEDS_ROOT_AND_RUNC}`);

let registry = "";
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
});

const MB = 1024 * 1024;
const LIMIT = "60MB";

/** Bytes allocated on disk under `path` (du's block count: what the disk holds, not apparent sizes). */
function diskUsage(path: string, exclude: string[] = []): number {
  const res = Bun.spawnSync(["du", "-s", "--block-size=1", ...exclude.map((e) => `--exclude=${e}`), path]);
  return Number(res.stdout.toString().split(/\s/)[0]);
}

/** The sizes `kitbuild du --verbose` reports, per record (description or kind). */
function duRecords(stdout: string): Array<{ kind: string; size: number; description: string }> {
  return stdout.split("\n\n").flatMap((block) => {
    const kind = /^Kind:\s+(\S+)$/m.exec(block)?.[1];
    const size = /^Size:\s+(\S+)$/m.exec(block)?.[1];
    if (!kind || !size) return [];
    return [{ kind, size: parseDecimal(size), description: /^Description:\s+(.*)$/m.exec(block)?.[1] ?? "" }];
  });
}

/** formatBytes' decimal units ("41.94MB") back to bytes. */
function parseDecimal(text: string): number {
  const m = /^([\d.]+)([kKMGT]?B)$/.exec(text);
  if (!m) throw new Error(`not a size: ${text}`);
  return Number(m[1]) * ({ B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 } as Record<string, number>)[m[2] as string]!;
}

function context(n: number): string {
  const ctx = tempDir("kitbuild-ctx-");
  // 40 MiB of random bytes: distinct content in each build, nothing compresses or dedups.
  writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nRUN head -c ${40 * MB} /dev/urandom > /data-${n}\n`);
  return ctx;
}

describe.skipIf(skip)("automatic garbage collection", () => {
  test("three 40 MB builds under KITBUILD_GC_KEEP_STORAGE=60MB stay under the limit plus the last build", async () => {
    const root = `${tempDir()}/root`;
    const env = { KITBUILD_ROOT: root, KITBUILD_GC_KEEP_STORAGE: LIMIT };
    const limit = parseBytes(LIMIT) as number;
    const logs: string[] = [];
    for (const n of [1, 2, 3]) {
      const res = await runKitbuild(["build", "--progress=plain", context(n)], { env, timeoutMs: 300_000 });
      expectExit(res, 0, `build ${n}`);
      logs.push(res.stderr);
    }
    // The first build fits; the second and third exceed the limit and collect.
    expect(logs[0]).not.toContain("garbage collection");
    expect(logs[1]).toMatch(/gc: removed \d+ records, [\d.]+MB freed/);
    expect(logs[2]).toMatch(/gc: removed \d+ records, [\d.]+MB freed/);

    const du = await runKitbuild(["du", "--verbose"], { env });
    expectExit(du, 0, "du");
    expect(du.stdout).toContain(`GC limit:\t${formatBytes(limit)}\n`);
    const records = duRecords(du.stdout);
    // Only the last build's data is left; what it holds: its RUN result and the base layer.
    expect(records.filter((r) => r.description.includes("/data-")).map((r) => /data-\d/.exec(r.description)?.[0])).toEqual(["data-3"]);
    const lastBuild = records.filter((r) => r.description.includes("/data-3") || r.kind === "layer").reduce((s, r) => s + r.size, 0);
    expect(lastBuild).toBeGreaterThan(40 * MB);

    // The disk agrees: the cache root (without the index database, which du does not count) holds
    // what du reports, within the rounding of its two-decimal sizes and directory blocks.
    const reported = parseDecimal(/^Total:\s+(\S+)$/m.exec(du.stdout)?.[1] ?? "");
    const onDisk = diskUsage(root, ["index.db*"]);
    expect(Math.abs(onDisk - reported)).toBeLessThan(2 * MB);
    console.log(`gc test: on disk ${onDisk} (with the index ${diskUsage(root)}), du total ${reported}, limit ${limit}, last build ${lastBuild}`);
    expect(diskUsage(root)).toBeLessThan(limit + lastBuild);
    expect(reported).toBeLessThanOrEqual(limit);
  }, 600_000);

  test("GC never removes what another running build holds", async () => {
    const root = `${tempDir()}/root`;
    const ctxWith = (lines: string[]) => {
      const ctx = tempDir("kitbuild-ctx-");
      writeFileSync(`${ctx}/Dockerfile`, [`FROM ${registry}/busybox`, ...lines, ""].join("\n"));
      return ctx;
    };
    // Garbage from an earlier build, which nothing holds.
    const old = await runKitbuild(["build", "--progress=plain", ctxWith([`RUN head -c ${25 * MB} /dev/urandom > /old`])], { env: { KITBUILD_ROOT: root, KITBUILD_GC_KEEP_STORAGE: "0" } });
    expectExit(old, 0, "the earlier build");
    // A holds its 30 MB step while its last step sleeps; B, with a 10 MB limit, collects meanwhile.
    const outA = `${tempDir()}/out`;
    let startedB: Promise<Awaited<ReturnType<typeof runKitbuild>>> | undefined;
    const ctxB = ctxWith([`RUN head -c ${20 * MB} /dev/urandom > /b`]);
    const a = await runKitbuild(["build", "--progress=plain", "-o", outA, ctxWith([`RUN head -c ${30 * MB} /dev/urandom > /a`, "RUN sleep 8; echo done > /done"])], {
      env: { KITBUILD_ROOT: root, KITBUILD_GC_KEEP_STORAGE: "0" },
      timeoutMs: 300_000,
      onStderr: (text) => {
        if (!startedB && /\[3\/3\] RUN sleep/.test(text)) {
          startedB = runKitbuild(["build", "--progress=plain", ctxB], { env: { KITBUILD_ROOT: root, KITBUILD_GC_KEEP_STORAGE: "10MB" }, timeoutMs: 300_000 });
        }
      },
    });
    expect(startedB).toBeDefined();
    const b = await (startedB as Promise<Awaited<ReturnType<typeof runKitbuild>>>);
    expectExit(b, 0, "build B");
    expect(b.stderr).toMatch(/gc: removed \d+ records/);
    expectExit(a, 0, "build A, whose records B's GC had to leave alone");
    expect(statSync(`${outA}/a`).size).toBe(30 * MB);
    expect(readFileSync(`${outA}/done`, "utf8")).toBe("done\n");
    const du = await runKitbuild(["du", "--verbose"], { env: { KITBUILD_ROOT: root } });
    const kept = duRecords(du.stdout).map((r) => r.description);
    expect(kept.some((d) => d.includes("> /a"))).toBe(true);
    expect(kept.some((d) => d.includes("> /b"))).toBe(true);
    expect(kept.some((d) => d.includes("> /old"))).toBe(false);
    // A was open meanwhile: the base layer stayed.
    expect(duRecords(du.stdout).some((r) => r.kind === "layer")).toBe(true);
  }, 600_000);

  test("a GC killed with SIGKILL leaves an intact cache; the next build collects and works", async () => {
    const root = `${tempDir()}/root`;
    const env = { KITBUILD_ROOT: root, KITBUILD_GC_KEEP_STORAGE: "30MB" };
    for (const n of [1, 2]) expectExit(await runKitbuild(["build", "--progress=plain", context(10 + n)], { env: { ...env, KITBUILD_GC_KEEP_STORAGE: "0" } }), 0);
    // The third build starts a GC (80 MB over 30 MB) and is killed as soon as it says so.
    let killed = false;
    const res = await runKitbuild(["build", "--progress=plain", context(13)], {
      env,
      onStderr: (text, child) => {
        if (!killed && text.includes("[internal] garbage collection")) {
          killed = true;
          child.kill("SIGKILL");
        }
      },
    });
    expect(killed).toBe(true);
    expect(res.signal).toBe("SIGKILL");
    const settings = { KITBUILD_ROOT: root };
    {
      await using opened = await openEnvironment({ config: readConfig(settings), env: settings, insecureRegistries: [] });
      expect(await checkCache(opened)).toEqual([]);
      expect(opened.index.allSnapshots().filter((s) => s.state !== "committed")).toEqual([]);
    }
    const next = await runKitbuild(["build", "--progress=plain", context(14)], { env, timeoutMs: 300_000 });
    expectExit(next, 0, "the build after the killed GC");
    const du = await runKitbuild(["du"], { env });
    expect(parseDecimal(/^Total:\s+(\S+)$/m.exec(du.stdout)?.[1] ?? "")).toBeLessThanOrEqual(parseBytes("30MB") as number + 45 * MB);
  }, 600_000);

  test("cache mounts count in du with their size, and an unused one is pruned", async () => {
    const root = `${tempDir()}/root`;
    const env = { KITBUILD_ROOT: root, KITBUILD_GC_KEEP_STORAGE: "0" };
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nRUN --mount=type=cache,target=/c head -c ${5 * MB} /dev/urandom > /c/blob\n`);
    expectExit(await runKitbuild(["build", "--progress=plain", ctx], { env }), 0);
    const du = await runKitbuild(["du"], { env });
    expect(du.stdout).toMatch(/^exec\.cachemount\s+1 records\s+5\.\d\dMB/m);
    expect(du.stdout).toMatch(/^Total:/m);
    const prune = await runKitbuild(["prune", "-f"], { env });
    expectExit(prune, 0, "prune");
    expect(prune.stdout).toContain("exec.cachemount");
    expect((await runKitbuild(["du"], { env })).stdout).not.toContain("exec.cachemount");
    expect(readdirSync(`${root}/cache-mounts`)).toEqual([]);
  }, 300_000);
});
