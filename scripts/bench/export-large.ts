// Benchmark: exporting a ~1 GB image of 12 layers as a docker and an OCI tar (issue 19's loss on a
// real project). Each layer holds what real layers hold: incompressible data, zeros and thousands
// of small text files. Timed: the first export of the cached build (layers diffed and gzipped: a
// new SOURCE_DATE_EPOCH each run makes a new layer variant) and an export again (blobs reused).
// With --baseline, another kitbuild binary is timed too, alternating, each with its own cache root.
// With docker.io installed, BuildKit's way to the same tar is timed after kitbuild's rounds, in the
// same run: the cached `docker build -t` and `docker save` (docker 20.10 writes no type=docker).
//   bun scripts/bench/export-large.ts [--runs N] [--layers N] [--baseline PATH/TO/OLD/kitbuild]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { startTestEnv } from "../test-env.ts";
import { BUILDKIT_ENV, DOCKER, ensureDocker } from "./docker.ts";
import { KITBUILD, median, numberArg, run } from "./lib.ts";

const RUNS = numberArg("runs", 3);
const LAYERS = numberArg("layers", 12);
const baselineAt = process.argv.indexOf("--baseline");
const baseline = baselineAt > 0 ? process.argv[baselineAt + 1] : undefined;
const binaries = [{ name: "kitbuild (this checkout)", path: KITBUILD }, ...(baseline ? [{ name: "kitbuild (baseline)", path: baseline }] : [])];

/** One layer: 40 MB random, 30 MB zeros, 3,000 small text files. */
function layerStep(i: number): string {
  return `RUN mkdir -p /l${i}/s && head -c 40000000 /dev/urandom > /l${i}/random && head -c 30000000 /dev/zero > /l${i}/zeros && for j in $(seq 1 3000); do seq 1 $((j % 300)) > /l${i}/s/f$j; done`;
}

function timeOnce(path: string, args: string[], root: string, epoch: number): number {
  const t0 = performance.now();
  run(path, args, { env: { KITBUILD_ROOT: root, SOURCE_DATE_EPOCH: String(epoch) } });
  return (performance.now() - t0) / 1000;
}

const env = await startTestEnv();
const work = mkdtempSync(`${tmpdir()}/kitbuild-bench-export-large-`);
try {
  const ctx = `${work}/ctx`;
  mkdirSync(ctx);
  writeFileSync(`${ctx}/Dockerfile`, `FROM ${env.busybox}\n${Array.from({ length: LAYERS }, (_, i) => layerStep(i)).join("\n")}\n`);
  const roots = binaries.map((_, b) => `${work}/root-${b}`);
  binaries.forEach((bin, b) => run(bin.path, ["build", "--progress=quiet", ctx], { env: { KITBUILD_ROOT: roots[b] as string } }));
  for (const type of ["docker", "oci"] as const) {
    const first = binaries.map(() => [] as number[]);
    const again = binaries.map(() => [] as number[]);
    for (let i = 0; i < RUNS; i++) {
      // Who goes first swaps each round.
      const order = i % 2 === 0 ? binaries.map((_, b) => b) : binaries.map((_, b) => b).reverse();
      for (const b of order) {
        const out = `${work}/out-${b}.tar`;
        const args = ["build", "--progress=quiet", "-o", `type=${type},dest=${out},rewrite-timestamp=true`, ctx];
        const epoch = 1_700_000_000 + (type === "oci" ? 500 : 0) + i;
        first[b]?.push(timeOnce(binaries[b]?.path as string, args, roots[b] as string, epoch));
        again[b]?.push(timeOnce(binaries[b]?.path as string, args, roots[b] as string, epoch));
        rmSync(out, { force: true });
      }
    }
    console.log(`\n${LAYERS}-layer image as type=${type} (gzip), ${RUNS} runs`);
    binaries.forEach((bin, b) => {
      console.log(`  ${bin.name.padEnd(26)} first export median ${median(first[b] ?? []).toFixed(2)}s, again ${median(again[b] ?? []).toFixed(2)}s`);
    });
  }
  await timeBuildKit(ctx, `${work}/out-buildkit.tar`);
} finally {
  await env.stop();
  rmSync(work, { recursive: true, force: true });
}

/** The cached build and `docker save` of its image, as B5 times BuildKit's image tar. */
async function timeBuildKit(ctx: string, out: string): Promise<void> {
  const docker = await ensureDocker();
  if (!docker) return;
  const tag = "kitbuild-bench-export-large";
  try {
    run(DOCKER, ["build", "-q", "-t", tag, ctx], { env: BUILDKIT_ENV });
    const seconds: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      run(DOCKER, ["build", "-q", "-t", tag, ctx], { env: BUILDKIT_ENV });
      run(DOCKER, ["save", "-o", out, tag]);
      seconds.push((performance.now() - t0) / 1000);
      rmSync(out, { force: true });
    }
    console.log(`\n${LAYERS}-layer image, BuildKit: cached docker build -t + docker save (uncompressed layers), ${RUNS} runs`);
    console.log(`  ${"BuildKit".padEnd(26)} median ${median(seconds).toFixed(2)}s`);
  } finally {
    spawnSync(DOCKER, ["rmi", "-f", tag], { stdio: "ignore" });
    spawnSync(DOCKER, ["builder", "prune", "-af"], { stdio: "ignore" });
    await docker.stop();
  }
}
