// Issue 19's table in one command: the six scenarios (scripts/bench/scenarios.ts) run by kitbuild
// and by BuildKit (docker 20.10, DOCKER_BUILDKIT=1) in one run, alternating who goes first each
// round, and kitbuild's start-up (first, on a quiet machine). Prints medians, the ratio kitbuild/BuildKit against each goal,
// and kitbuild's peak RSS per scenario, as a Markdown table.
//
//   bun scripts/bench/all.ts [--runs 3] [--files 20000] [--only B1,B4]     (as root)
//   (--only startup: start-up alone)
//
// buildah is not in this run: its mass deletions would land between the two tools' runs (see the
// ext4 note in docs/architecture.md); the single-scenario scripts time it in runs of their own.
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { buildBinary } from "../build.ts";
import { startTestEnv } from "../test-env.ts";
import { pushDoubleDebian } from "./debian-layer.ts";
import { ensureDocker } from "./docker.ts";
import { KITBUILD, median } from "./lib.ts";
import { scenarios, type Scenario, type Side } from "./scenarios.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "3" }, files: { type: "string", default: "20000" }, only: { type: "string" } } });
const RUNS = Number(values.runs);
const ONLY = values.only?.split(",");

const HANG_MS = 120_000;

type Result = { scenario: Scenario; kit: number[]; bk: number[]; floor: number[]; rss: number[] };

/** Runs a side's timed commands: seconds, and the largest max RSS among them (bytes). */
async function timeSide(side: Side): Promise<{ seconds: number; rss: number }> {
  try {
    await side.before?.();
    let rss = 0;
    const t0 = performance.now();
    for (const argv of side.steps) {
      // A bound: docker 20.10's local export of B6's tree hangs here after writing every file; such
      // a round is recorded as hung (NaN) instead of stopping the whole run.
      const res = Bun.spawnSync(argv, { env: { ...process.env, ...side.env }, stdout: "ignore", stderr: "pipe", timeout: HANG_MS, killSignal: "SIGKILL" });
      if (res.signalCode === "SIGKILL") return { seconds: Number.NaN, rss };
      if (res.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${res.exitCode}):\n${res.stderr.toString()}`);
      rss = Math.max(rss, res.resourceUsage.maxRSS);
    }
    return { seconds: (performance.now() - t0) / 1000, rss };
  } finally {
    await side.after?.();
  }
}

type Who = "kit" | "bk" | "floor";
const NAMES: Record<Who, string> = { kit: "kitbuild", bk: "BuildKit", floor: "floor" };

async function measure(s: Scenario, hasBuildKit: boolean): Promise<Result> {
  process.stderr.write(`${s.id}: preparing\n`);
  s.prepare();
  const result: Result = { scenario: s, kit: [], bk: [], floor: [], rss: [] };
  try {
    for (let r = 0; r < RUNS; r++) {
      const order: Who[] = r % 2 === 0 ? ["kit", "bk", "floor"] : ["bk", "kit", "floor"];
      for (const who of order) {
        // After a hung round BuildKit is not asked again: each would cost the whole bound.
        if (who === "bk" && (!hasBuildKit || result.bk.some(Number.isNaN))) continue;
        if (who === "floor" && !s.floor) continue;
        const side = who === "kit" ? s.kitbuild(r) : who === "bk" ? s.buildkit(r) : (s.floor as NonNullable<Scenario["floor"]>).side(r);
        const { seconds, rss } = await timeSide(side);
        result[who].push(seconds);
        if (who === "kit") result.rss.push(rss);
        process.stderr.write(`${s.id} round ${r + 1}: ${NAMES[who]} ${Number.isNaN(seconds) ? "hung, killed" : `${seconds.toFixed(3)} s`}\n`);
      }
    }
  } finally {
    s.finish?.();
  }
  return result;
}

function startup(): number[] {
  const times: number[] = [];
  for (let i = 0; i < 21; i++) {
    const t0 = performance.now();
    const res = spawnSync(KITBUILD, ["--version"], { stdio: "ignore" });
    if (res.status !== 0) throw new Error("kitbuild --version failed");
    times.push(performance.now() - t0);
  }
  return times;
}

const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;

function printTable(results: Result[], startupMs: number[]): void {
  console.log(`\nkitbuild vs BuildKit (docker 20.10, DOCKER_BUILDKIT=1), medians of ${RUNS}, alternating\n`);
  console.log("| scenario | kitbuild | BuildKit | ratio | goal | kitbuild peak RSS |");
  console.log("|---|---|---|---|---|---|");
  for (const { scenario: s, kit, bk, floor, rss } of results) {
    const k = median(kit);
    const finished = bk.filter((t) => !Number.isNaN(t));
    const b = finished.length ? median(finished) : Number.NaN;
    const ratio = k / b;
    const goal = s.goal === undefined ? "keep" : `<= ${s.goal} ${Number.isNaN(ratio) ? "" : ratio <= s.goal ? "(met)" : "(missed)"}`;
    console.log(`| ${s.id} ${s.title} | ${k.toFixed(3)} s | ${Number.isNaN(b) ? (bk.length ? `hung (killed after ${HANG_MS / 1000} s)` : "-") : `${b.toFixed(3)} s`} | ${Number.isNaN(ratio) ? "-" : ratio.toFixed(2)} | ${goal} | ${mb(Math.max(...rss))} |`);
    // The floor's own ratio to BuildKit: the best ratio any tool could reach in these rounds.
    const best = median(floor) / b;
    if (s.floor && floor.length) console.log(`| ${s.id} floor: ${s.floor.title} | ${median(floor).toFixed(3)} s | | ${Number.isNaN(best) ? "-" : `${best.toFixed(2)} (floor / BuildKit)`} | | |`);
  }
  const peak = results.reduce((best, r) => (Math.max(...r.rss) > best.rss ? { rss: Math.max(...r.rss), id: r.scenario.id } : best), { rss: 0, id: "-" });
  if (results.length) console.log(`| peak RSS, all scenarios | ${mb(peak.rss)} in ${peak.id} | | | <= 150 MB ${peak.rss <= 150e6 ? "(met)" : "(missed)"} | |`);
  console.log(`| start-up: \`kitbuild --version\` | ${median(startupMs).toFixed(1)} ms | | | < 30 ms ${median(startupMs) < 30 ? "(met)" : "(missed)"} | |`);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("the benchmark needs root (kitbuild and docker build as root here)");
  buildBinary();
  const docker = await ensureDocker();
  const env = await startTestEnv();
  // Not under /tmp with the tests' churn, and apart from docker's /var/lib/docker.
  const work = `/var/tmp/kitbuild-bench-all-${process.pid}`;
  mkdirSync(work, { recursive: true });
  try {
    const debian = await pushDoubleDebian(env.registry, "bench/debian2");
    process.stderr.write(`B4-B6 base: ${debian.ref}, one layer of ${mb(debian.bytes)} (${mb(debian.gzipped)} gzipped)\n`);
    const all = scenarios({ work, busybox: env.busybox, debian: debian.ref, debianBlobUrl: debian.blobUrl, files: Number(values.files) });
    const unknown = ONLY?.filter((id) => id !== "startup" && !all.some((s) => s.id === id));
    if (unknown?.length) throw new Error(`--only: no scenario ${unknown.join(", ")} (there are ${all.map((s) => s.id).join(", ")} and startup)`);
    // Start-up first, once the disk is quiet: right after B4 (its dockerd stopping, its files
    // written back) the same binary took 30.8 ms instead of 16-21, and 30.2 ms right after the
    // Debian image was pushed.
    spawnSync("sync");
    const startupMs = startup();
    const results: Result[] = [];
    for (const s of all.filter((s) => !ONLY || ONLY.includes(s.id))) results.push(await measure(s, docker !== undefined));
    printTable(results, startupMs);
  } finally {
    await env.stop();
    await docker?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
