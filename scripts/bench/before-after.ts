// Benchmark: this checkout's dist/kitbuild against another kitbuild binary (an earlier commit's),
// alternating runs (and who goes first) in one process, so a change can be shown to cost no time. Three scenarios cover
// the paths a refactor of the seams moves: start-up and cache look-ups (a no-op rebuild of a
// 20,000-file context), RUN steps (uncached, through the executor) and an image export.
//   bun scripts/bench/before-after.ts --baseline PATH/TO/OLD/kitbuild [--runs N] [--files N]
// Build the baseline with: git worktree add /tmp/old COMMIT && (cd /tmp/old && bun install && bun run build)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { startTestEnv } from "../test-env.ts";
import { manyFiles, median, numberArg, run, KITBUILD } from "./lib.ts";

const RUNS = numberArg("runs", 5);
const FILES = numberArg("files", 20_000);
const baselineAt = process.argv.indexOf("--baseline");
const baseline = baselineAt > 0 ? process.argv[baselineAt + 1] : undefined;
if (!baseline) {
  console.error("usage: bun scripts/bench/before-after.ts --baseline PATH/TO/OLD/kitbuild [--runs N] [--files N]");
  process.exit(2);
}
const current = KITBUILD;
const binaries = [
  { name: "kitbuild (this checkout)", path: current },
  { name: "kitbuild (baseline)", path: baseline },
];

type Scenario = { title: string; args: (ctx: string, out: string, i: number) => string[]; ctx: string };

/** Times each binary on `s`, alternating, each with a cache root of its own warmed by one build. */
function measure(s: Scenario, work: string): void {
  const roots = binaries.map((_, b) => `${work}/root-${b}`);
  binaries.forEach((bin, b) => run(bin.path, ["build", "--progress=quiet", s.ctx], { env: { KITBUILD_ROOT: roots[b] as string } }));
  const seconds = binaries.map(() => [] as number[]);
  for (let i = 0; i < RUNS; i++) {
    // Who goes first swaps each round: with a fixed order, going first made a no-op rebuild about
    // 10% slower here than alternating showed it to be.
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    for (const b of order) {
      const bin = binaries[b] as (typeof binaries)[number];
      const t0 = performance.now();
      run(bin.path, s.args(s.ctx, `${work}/out-${b}-${i}`, i), { env: { KITBUILD_ROOT: roots[b] as string } });
      seconds[b]?.push((performance.now() - t0) / 1000);
    }
  }
  const [ours, theirs] = seconds.map(median) as [number, number];
  console.log(`\n${s.title}`);
  binaries.forEach((bin, b) => console.log(`  ${bin.name.padEnd(26)} median ${median(seconds[b] ?? []).toFixed(3)}s  (${RUNS} runs)`));
  console.log(`  this checkout takes ${(ours / theirs).toFixed(2)}x the baseline's time`);
}

const env = await startTestEnv();
const work = mkdtempSync(`${tmpdir()}/kitbuild-bench-ba-`);
try {
  const files = `${work}/files`;
  manyFiles(files, FILES);
  writeFileSync(`${files}/Dockerfile`, `FROM ${env.busybox}\nCOPY . /app\nRUN find /app -type f | wc -l > /count\n`);
  const runs = `${work}/runs`;
  mkdirSync(runs);
  writeFileSync(`${runs}/Dockerfile`, `FROM ${env.busybox}\n${Array.from({ length: 5 }, (_, i) => `RUN echo step ${i} > /s${i}`).join("\n")}\n`);
  const image = `${work}/image`;
  mkdirSync(image);
  writeFileSync(`${image}/Dockerfile`, `FROM ${env.busybox}\nRUN head -c 50000000 /dev/urandom > /random\n`);
  measure({ title: `no-op rebuild, ${FILES} files in the context`, ctx: files, args: (ctx) => ["build", "--progress=quiet", ctx] }, work);
  measure({ title: "five RUN steps, uncached (--no-cache)", ctx: runs, args: (ctx) => ["build", "--progress=quiet", "--no-cache", ctx] }, work);
  measure({
    title: "cached build + a 50 MB layer exported as a gzipped OCI tar (a new SOURCE_DATE_EPOCH each run)",
    ctx: image,
    args: (ctx, out, i) => ["build", "--progress=quiet", "--build-arg", `SOURCE_DATE_EPOCH=${1000 + i}`, "-o", `type=oci,dest=${out}.tar,rewrite-timestamp=true`, ctx],
  }, work);
} finally {
  await env.stop();
  rmSync(work, { recursive: true, force: true });
}
