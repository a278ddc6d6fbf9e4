// Benchmark: `COPY . /data/` of a 20,000-file context (and of one 200 MB file) FROM scratch, exported
// to a local directory, by kitbuild, BuildKit (docker 20.10 with DOCKER_BUILDKIT=1) and buildah in
// the same run, each on a fresh copy of the context with a cold cache. Prints the median wall time
// of each and the ratios to kitbuild. Tools that are not installed are reported as skipped.
//
//   bun scripts/bench/copy.ts [--runs 3] [--files 20000]      (as root; builds dist/kitbuild first)
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { parseArgs } from "node:util";
import { buildBinary } from "../build.ts";
import { writeNoiseFile } from "../noise.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "3" }, files: { type: "string", default: "20000" } } });
const RUNS = Number(values.runs);
const FILES = Number(values.files);
const REPO = new URL("../..", import.meta.url).pathname;
const DOCKER = "/usr/bin/docker";

type Tool = { name: string; available: boolean; build(ctx: string, out: string, work: string): void };

const TOOLS: Tool[] = [
  {
    name: "kitbuild",
    available: true,
    build: (ctx, out, work) => run(`${REPO}/dist/kitbuild`, ["build", "--progress=quiet", "-o", `type=local,dest=${out}`, ctx], { KITBUILD_ROOT: `${work}/root` }),
  },
  {
    name: "BuildKit (docker 20.10)",
    available: Bun.which(DOCKER) !== null && spawnSync(DOCKER, ["info"], { stdio: "ignore" }).status === 0,
    build: (ctx, out) => run(DOCKER, ["build", "--no-cache", "-q", "-o", `type=local,dest=${out}`, ctx], { DOCKER_BUILDKIT: "1" }),
  },
  {
    name: "buildah bud",
    available: Bun.which("buildah") !== null,
    build: (ctx, out) => {
      const id = run("buildah", ["bud", "--no-cache", "-q", "-o", `type=local,dest=${out}`, ctx], {}).trim().split("\n").at(-1) ?? "";
      if (id) spawnSync("buildah", ["rmi", "-f", id], { stdio: "ignore" });
    },
  },
];

function run(cmd: string, args: string[], env: Record<string, string>): string {
  const res = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 1 << 26 });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${res.status}):\n${res.stderr}`);
  return res.stdout;
}

function manyFiles(dir: string, count: number): void {
  const perDir = 100;
  for (let i = 0; i < count; i++) {
    const d = `${dir}/d${Math.floor(i / perDir)}`;
    if (i % perDir === 0) mkdirSync(d, { recursive: true });
    writeFileSync(`${d}/f${i}.txt`, `file ${i}\n`.repeat(1 + (i % 64)));
  }
}

function bigFile(dir: string, bytes: number): void {
  mkdirSync(dir, { recursive: true });
  writeNoiseFile(`${dir}/big.bin`, bytes, 88172645);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function bench(label: string, fill: (dir: string) => void): void {
  const base = mkdtempSync(`${tmpdir()}/kitbuild-bench-`);
  try {
    const template = `${base}/template`;
    fill(template);
    writeFileSync(`${template}/Dockerfile`, "FROM scratch\nCOPY . /data/\n");
    const times = new Map<string, number[]>();
    for (let r = 0; r < RUNS; r++) {
      // Interleaved, so a slow moment of the machine does not land on one tool only.
      for (const tool of TOOLS.filter((t) => t.available)) {
        const work = `${base}/run-${r}-${tool.name.split(" ")[0]}`;
        cpSync(template, `${work}/ctx`, { recursive: true });
        execFileSync("sync");
        const t0 = performance.now();
        tool.build(`${work}/ctx`, `${work}/out`, work);
        const elapsed = (performance.now() - t0) / 1000;
        times.set(tool.name, [...(times.get(tool.name) ?? []), elapsed]);
        rmSync(work, { recursive: true, force: true });
      }
    }
    const ours = median(times.get("kitbuild") ?? [Number.NaN]);
    console.log(`\n${label} (median of ${RUNS}, COPY + export to a local directory, cold cache)`);
    for (const tool of TOOLS) {
      if (!tool.available) {
        console.log(`  ${tool.name.padEnd(24)} skipped: not installed or not running`);
        continue;
      }
      const m = median(times.get(tool.name) ?? []);
      const ratio = tool.name === "kitbuild" ? "" : `  ${(m / ours).toFixed(2)}x kitbuild's time`;
      console.log(`  ${tool.name.padEnd(24)} ${m.toFixed(2)} s${ratio}`);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

if (process.getuid?.() !== 0) {
  console.error("the benchmark needs root (kitbuild, docker and buildah all build as root here)");
  process.exit(2);
}
buildBinary();
bench(`${FILES.toLocaleString("en")} files`, (dir) => manyFiles(dir, FILES));
bench("one 200 MB file", (dir) => bigFile(dir, 200 << 20));
