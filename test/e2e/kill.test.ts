// kitbuild killed during a RUN leaves nothing behind: SIGTERM cleans up before exiting; after SIGKILL
// its watchdog deletes the container and releases the mounts at once; and if the watchdog is killed
// too, the next kitbuild start does it. Checked in `runc list` and /proc/mounts with a runc root and
// cache root of the test's own. Needs root and runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `kill tests: ${NEEDS_ROOT_AND_RUNC}`);

let registry = "";
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
});

function setup() {
  const ctx = tempDir("kitbuild-ctx-");
  writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nRUN echo started; sleep 60; echo finished\n`);
  const work = tempDir();
  return { ctx, root: `${work}/root`, runcRoot: `${work}/runc` };
}

type Setup = ReturnType<typeof setup>;

/** The step's own output line (not its name, which has the word too). */
const STEP_STARTED = /#\d+ [\d.]+ started\n/;

/** Runs the build and sends `signal` once the step has printed "started"; returns the result and kitbuild's pid. */
async function buildAndKill(s: Setup, signal: NodeJS.Signals, beforeKill?: (pid: number) => void) {
  let pid = 0;
  const res = await runKitbuild(["build", "--progress=plain", s.ctx], {
    env: { KITBUILD_ROOT: s.root, KITBUILD_RUNC_ROOT: s.runcRoot },
    onStderr: (text, child) => {
      if (pid === 0 && STEP_STARTED.test(text)) {
        pid = child.pid ?? -1;
        beforeKill?.(pid);
        child.kill(signal);
      }
    },
  });
  expect(pid).toBeGreaterThan(0);
  return { res, pid };
}

function containers(s: Setup): string[] {
  const list = Bun.spawnSync(["runc", "--root", s.runcRoot, "list", "--quiet"]);
  return list.stdout.toString().split("\n").filter(Boolean);
}

const mountsUnder = (root: string) => readFileSync("/proc/mounts", "utf8").split("\n").filter((l) => l.includes(root));
const leftovers = (s: Setup) => [...containers(s), ...mountsUnder(s.root)];

async function waitUntilClean(s: Setup): Promise<string[]> {
  for (let i = 0; i < 200 && leftovers(s).length > 0; i++) await Bun.sleep(50);
  return leftovers(s);
}

function activeSnapshots(root: string): number {
  const db = new Database(`${root}/index.db`, { readonly: true });
  try {
    return (db.query("SELECT count(*) AS n FROM snapshots WHERE state = 'active'").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** The watchdog shell of a kitbuild process ("sh -c … kitbuild-reaper PID …"). */
function reaperOf(pid: number): number | undefined {
  for (const p of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const args = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      if (args[3] === "kitbuild-reaper" && args[4] === String(pid)) return Number(p);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

describe.skipIf(skip)("killing kitbuild during a RUN", () => {
  test("SIGTERM: exits 130 with nothing left in runc list or /proc/mounts", async () => {
    const s = setup();
    const { res } = await buildAndKill(s, "SIGTERM");
    expect(res.code).toBe(130);
    expect(res.stderr).toContain("terminated by SIGTERM");
    expect(leftovers(s)).toEqual([]);
    expect(readdirSync(`${s.root}/executor`)).toEqual([]);
    expect(activeSnapshots(s.root)).toBe(0);
  });

  test("SIGKILL: the watchdog removes the container and the mounts; the next start the rest", async () => {
    const s = setup();
    const { res } = await buildAndKill(s, "SIGKILL");
    expect(res.signal).toBe("SIGKILL");
    expect(await waitUntilClean(s)).toEqual([]);
    expect(readdirSync(`${s.root}/executor`)).toEqual([]);
    // The record of the step's snapshot is the next start's to remove.
    const next = await runKitbuild(["build", "--progress=plain", "-o", `${s.root}/../out`, s.ctx], {
      env: { KITBUILD_ROOT: s.root, KITBUILD_RUNC_ROOT: s.runcRoot },
      onStderr: (text, child) => {
        if (STEP_STARTED.test(text)) child.kill("SIGINT");
      },
    });
    expect(next.code).toBe(130);
    expect(activeSnapshots(s.root)).toBe(0);
    expect(leftovers(s)).toEqual([]);
  });

  test("SIGKILL to kitbuild and its watchdog: the next kitbuild start cleans up", async () => {
    const s = setup();
    let reaper: number | undefined;
    await buildAndKill(s, "SIGKILL", (pid) => {
      reaper = reaperOf(pid);
      if (reaper) process.kill(reaper, "SIGKILL");
    });
    expect(reaper).toBeGreaterThan(0);
    // Nobody cleaned up: the container still runs and its mounts are there.
    expect(containers(s).length).toBe(1);
    expect(mountsUnder(s.root).length).toBeGreaterThan(0);
    const other = tempDir("kitbuild-ctx-");
    writeFileSync(`${other}/Dockerfile`, `FROM ${registry}/busybox\n`);
    const next = await runKitbuild(["build", "--progress=plain", other], { env: { KITBUILD_ROOT: s.root, KITBUILD_RUNC_ROOT: s.runcRoot } });
    expect(next.stderr).not.toContain("ERROR");
    expect(next.code).toBe(0);
    expect(leftovers(s)).toEqual([]);
    expect(readdirSync(`${s.root}/executor`)).toEqual([]);
    expect(activeSnapshots(s.root)).toBe(0);
    expect(existsSync(`${s.root}/mounts`) ? readdirSync(`${s.root}/mounts`) : []).toEqual([]);
  });
});
