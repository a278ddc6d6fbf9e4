// kitbuild killed during a RUN leaves nothing behind: SIGTERM cleans up before exiting; after SIGKILL
// its watchdog deletes the container and releases the mounts at once; and if the watchdog is killed
// too, the next kitbuild start does it. Checked in `runc list` and /proc/mounts with a runc root and
// cache root of the test's own. Then kill -9 at random moments outside a RUN (COPY, a download, just
// before the first RUN) and a reused pid, with every kind of leftover counted. Needs root and runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { startFaultProxy } from "../fixtures/fault-proxy.ts";
import { BINARY, expectExit, HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

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
/** Helper processes (pasta) whose command line names this cache root. */
function helpersUnder(root: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue;
    }
    if (cmdline.includes(`${root}/`) && !cmdline.includes("kitbuild-reaper") && !cmdline.includes("build --progress")) found.push(`pid ${pid}: ${cmdline}`);
  }
  return found;
}

const leftovers = (s: Setup) => [...containers(s), ...mountsUnder(s.root), ...helpersUnder(s.root)];

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

// kill -9 at random moments outside a RUN: while COPY copies a context, while a layer downloads,
// just before the first RUN. Nothing may be left once the next build has run and after a prune:
// no mounts under the cache root, no leases of dead processes, no partial downloads, no temp or
// mount directories, no unfinished snapshots; and the next build gives what a clean one gives.

type Child = import("node:child_process").ChildProcess;

type Leftovers = Record<"mounts" | "deadLeases" | "ingest" | "tmp" | "mountDirs" | "executor" | "unfinished", string[]>;

/** Everything a killed kitbuild could leave in `root`, by kind (empty lists when clean). */
function leftoversIn(root: string): Leftovers {
  const dir = (p: string) => (existsSync(`${root}/${p}`) ? readdirSync(`${root}/${p}`) : []);
  const mountinfo = readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "");
  const db = new Database(`${root}/index.db`, { readonly: true });
  try {
    db.exec("PRAGMA busy_timeout = 10000");
    const leases = db.query("SELECT pid FROM leases").all() as Array<{ pid: number }>;
    const active = db.query("SELECT id FROM snapshots WHERE state != 'committed'").all() as Array<{ id: number }>;
    return {
      mounts: mountinfo.filter((m) => m.startsWith(`${root}/`)),
      deadLeases: leases.filter((l) => !isAlive(l.pid)).map((l) => String(l.pid)),
      ingest: dir("content/ingest"),
      tmp: dir("tmp"),
      mountDirs: dir("mounts"),
      executor: dir("executor"),
      unfinished: active.map((a) => String(a.id)),
    };
  } finally {
    db.close();
  }
}

const CLEAN: Leftovers = { mounts: [], deadLeases: [], ingest: [], tmp: [], mountDirs: [], executor: [], unfinished: [] };

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A file list with each file's size and content hash: what a local export holds, comparable across roots. */
function treeSummary(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(`${dir}/${rel}`, { withFileTypes: true })) {
      const p = rel ? `${rel}/${name.name}` : name.name;
      if (name.isDirectory()) walk(p);
      else if (name.isFile()) out.push(`${p} ${Bun.hash(readFileSync(`${dir}/${p}`))}`);
      else out.push(`${p} (${name.isSymbolicLink() ? "link" : "other"})`);
    }
  };
  walk("");
  return out.sort();
}

/**
 * Builds `ctx` and SIGKILLs kitbuild `delayMs` after `ready(stderr, root)` first holds (checked on
 * each stderr chunk and every 20 ms); returns once it is dead.
 */
async function killWhen(ctx: string, root: string, ready: (stderr: string) => boolean, delayMs: number): Promise<void> {
  let child: Child | undefined;
  let text = "";
  let fired = false;
  const fire = () => {
    if (fired || !child || !ready(text)) return;
    fired = true;
    setTimeout(() => child?.kill("SIGKILL"), delayMs);
  };
  const poll = setInterval(fire, 20);
  const res = await runKitbuild(["build", "--progress=plain", ctx], {
    env: { KITBUILD_ROOT: root, KITBUILD_RUNC_ROOT: `${root}-runc` },
    onStderr: (t, c) => {
      child = c;
      text = t;
      fire();
    },
  });
  clearInterval(poll);
  expect(fired).toBe(true);
  expect(res.signal, `kitbuild was not killed (it ended first); stderr:\n${res.stderr}`).toBe("SIGKILL");
}

/** The next build (its output compared with a clean root's), then prune -af: nothing left after each. */
async function expectReaped(ctx: string, root: string): Promise<void> {
  const env = { KITBUILD_ROOT: root, KITBUILD_RUNC_ROOT: `${root}-runc` };
  const out = `${tempDir()}/out`;
  expectExit(await runKitbuild(["build", "--progress=plain", "-o", out, ctx], { env }), 0, "the build after the kill");
  expect(leftoversIn(root)).toEqual(CLEAN);
  const cleanRoot = `${tempDir()}/root`;
  const cleanOut = `${tempDir()}/out`;
  expectExit(await runKitbuild(["build", "--progress=plain", "-o", cleanOut, ctx], { env: { KITBUILD_ROOT: cleanRoot } }), 0, "the clean build");
  expect(treeSummary(out)).toEqual(treeSummary(cleanOut));
  expectExit(await runKitbuild(["prune", "-af"], { env }), 0, "prune");
  expect(leftoversIn(root)).toEqual(CLEAN);
  const du = await runKitbuild(["du"], { env });
  expect(du.stdout).toMatch(/^Total:\s+0B$/m);
}

const randomDelay = (maxMs: number) => {
  const ms = Math.floor(Math.random() * maxMs);
  console.log(`kill delay: ${ms} ms`);
  return ms;
};

describe.skipIf(skip)("kill -9 outside a RUN leaves nothing the next build and prune do not reap", () => {
  test("during COPY of a context: the mount watchdog releases the overlay at once", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    Bun.spawnSync(["mkdir", "-p", `${ctx}/files`]);
    // Enough files that the COPY outlasts the kill's delay: 2,000 took 0.1 s, and the build sometimes ended first.
    for (let i = 0; i < 8000; i++) writeFileSync(`${ctx}/files/f${i}`, `file ${i}\n`.repeat(50));
    writeFileSync(`${ctx}/big`, crypto.getRandomValues(new Uint8Array(30_000_000)));
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nCOPY . /ctx\nRUN ls /ctx/files | wc -l > /count\n`);
    const root = `${tempDir()}/root`;
    await killWhen(ctx, root, (t) => /\[2\/3\] COPY \. \/ctx/.test(t), randomDelay(150));
    // No RUN had started: the mount watchdog alone releases the mounts.
    for (let i = 0; i < 200 && leftoversIn(root).mounts.length > 0; i++) await Bun.sleep(50);
    expect(leftoversIn(root).mounts).toEqual([]);
    await expectReaped(ctx, root);
  }, 300_000);

  test("during a layer download: du counts the partial file while it grows; after the kill it is reaped", async () => {
    const name = `kill-big-${Date.now()}`;
    const bigCtx = tempDir("kitbuild-ctx-");
    writeFileSync(`${bigCtx}/big`, crypto.getRandomValues(new Uint8Array(20_000_000)));
    writeFileSync(`${bigCtx}/Dockerfile`, `FROM ${registry}/busybox\nCOPY big /big\n`);
    const pushed = await runKitbuild(["build", "--progress=plain", "-o", `type=image,name=${registry}/${name},push=true`, bigCtx], { env: { KITBUILD_ROOT: `${tempDir()}/root` } });
    expectExit(pushed, 0, "push of the big image");
    const proxy = await startFaultProxy(registry);
    try {
      // Every blob stops after 8 MB for a minute: the big layer's download holds a partial file.
      proxy.rules.push({ method: "GET", path: (p) => p.includes("/blobs/sha256:"), fault: { kind: "stall-body", afterBytes: 8_000_000, ms: 60_000 }, times: Infinity });
      const ctx = tempDir("kitbuild-ctx-");
      writeFileSync(`${ctx}/Dockerfile`, `FROM ${proxy.addr}/${name}\nRUN cat /big | wc -c > /size\n`);
      const root = `${tempDir()}/root`;
      const ingest = `${root}/content/ingest`;
      const partial = () => existsSync(ingest) && readdirSync(ingest).some((f) => statSync(`${ingest}/${f}`, { throwIfNoEntry: false })?.size === 8_000_000);
      let duWhileGrowing = "";
      await killWhen(ctx, root, () => {
        if (!partial()) return false;
        // While the download is stalled (the writer alive), du counts its partial file.
        duWhileGrowing ||= Bun.spawnSync([BINARY, "du"], { env: { PATH: process.env.PATH ?? "", KITBUILD_ROOT: root } }).stdout.toString();
        return true;
      }, randomDelay(200));
      expect(duWhileGrowing).toMatch(/^ingest\s+\d+ records\s+8\.\d\dMB/m);
      expect(leftoversIn(root).ingest.length).toBeGreaterThan(0);
      proxy.rules.length = 0;
      await expectReaped(ctx, root);
    } finally {
      proxy.stop();
    }
  }, 300_000);

  test("just before the first RUN: the mounts go at once, the rest with the next build", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/a.txt`, "alpha\n");
    // The step sleeps so that the build cannot end before the kill (it did once: the RUN took
    // 0.1 s); the kill lands within 50 ms of the step's start, while its container is being made.
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt && sleep 2\n`);
    const root = `${tempDir()}/root`;
    await killWhen(ctx, root, (t) => /\[3\/3\] RUN cat/.test(t), randomDelay(30));
    for (let i = 0; i < 200 && leftoversIn(root).mounts.length > 0; i++) await Bun.sleep(50);
    expect(leftoversIn(root).mounts).toEqual([]);
    await expectReaped(ctx, root);
  }, 300_000);

  test("a reused pid protects nothing: records of a dead process whose pid a live one has are reaped", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nRUN echo hi > /hi\n`);
    const root = `${tempDir()}/root`;
    const env = { KITBUILD_ROOT: root, KITBUILD_RUNC_ROOT: `${root}-runc` };
    expectExit(await runKitbuild(["build", "--progress=plain", ctx], { env }), 0);
    // A live process that is not the kitbuild that recorded these: same pid, another start time.
    const other = Bun.spawn(["sleep", "120"]);
    try {
      const db = new Database(`${root}/index.db`);
      const snapshot = (db.query("SELECT id FROM snapshots WHERE state = 'committed' ORDER BY id DESC LIMIT 1").get() as { id: number }).id;
      db.query("INSERT INTO processes (pid, start) VALUES (?, '1')").run(other.pid);
      db.query("INSERT INTO leases (pid, snapshot) VALUES (?, ?)").run(other.pid, snapshot);
      db.query("INSERT INTO claims (key, pid, started) VALUES ('sha256:x', ?, 0)").run(other.pid);
      db.close();
      writeFileSync(`${root}/content/ingest/${other.pid}-1-abcdef`, new Uint8Array(1_000_000));
      Bun.spawnSync(["mkdir", `${root}/mounts/${other.pid}-1-1`]);
      const prune = await runKitbuild(["prune", "-af"], { env });
      expectExit(prune, 0, "prune");
      const after = new Database(`${root}/index.db`, { readonly: true });
      try {
        expect(after.query("SELECT count(*) AS n FROM leases").get()).toEqual({ n: 0 });
        expect(after.query("SELECT count(*) AS n FROM claims").get()).toEqual({ n: 0 });
        expect(after.query("SELECT count(*) AS n FROM snapshots").get()).toEqual({ n: 0 });
      } finally {
        after.close();
      }
      expect(leftoversIn(root)).toEqual(CLEAN);
    } finally {
      other.kill();
    }
  }, 300_000);
});
