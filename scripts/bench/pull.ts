// Benchmark: a cold pull and unpack of a ~200 MB base image from the local test registry
// (`FROM it`, `RUN true`, every cache emptied before each run), by kitbuild, BuildKit (docker 20.10
// with DOCKER_BUILDKIT=1) and buildah, in the same run, printed as times and ratios.
//
//   bun scripts/bench/pull.ts [RUNS]      (needs root, docker's daemon and buildah; default 3 runs)
//
// Emptying BuildKit's cache means `docker builder prune -af` and removing the base image: it also
// drops other build cache of this docker daemon.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { buildBinary } from "../build.ts";
import { busyboxImage, pushImage, startTestEnv } from "../test-env.ts";
import { baseImageLayers } from "./base-image.ts";

const DOCKER = "/usr/bin/docker";
const runs = Number(process.argv[2] ?? "3");
const root = new URL("../..", import.meta.url).pathname;

function run(cmd: string[], env: Record<string, string | undefined> = {}): void {
  const res = spawnSync(cmd[0] as string, cmd.slice(1), { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (res.status !== 0) throw new Error(`${cmd.join(" ")} failed (${res.status}):\n${res.stderr.slice(-2000)}`);
}

function quiet(cmd: string[]): void {
  spawnSync(cmd[0] as string, cmd.slice(1), { stdio: "ignore" });
}

/** Seconds of wall time for `fn`. */
function timed(fn: () => void): number {
  const start = performance.now();
  fn();
  return (performance.now() - start) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

type Tool = { name: string; prepare: () => void; build: () => void; cleanup: () => void };

function tools(ctx: string, image: string, work: string): Tool[] {
  let kitRoot = "";
  let buildahRoot = "";
  return [
    {
      name: "kitbuild",
      prepare: () => (kitRoot = mkdtempSync(`${work}/kitbuild-`)),
      build: () => run([`${root}dist/kitbuild`, "build", "--progress=plain", ctx], { KITBUILD_ROOT: kitRoot }),
      cleanup: () => rmSync(kitRoot, { recursive: true, force: true }),
    },
    {
      name: "buildkit (docker 20.10)",
      prepare: () => {
        quiet([DOCKER, "rmi", "-f", image]);
        run([DOCKER, "builder", "prune", "-af"]);
      },
      build: () => run([DOCKER, "build", "--progress=plain", "--iidfile", `${work}/iid`, ctx], { DOCKER_BUILDKIT: "1" }),
      cleanup: () => {
        if (existsSync(`${work}/iid`)) quiet([DOCKER, "rmi", "-f", readFileSync(`${work}/iid`, "utf8").trim()]);
        rmSync(`${work}/iid`, { force: true });
        quiet([DOCKER, "rmi", "-f", image]);
      },
    },
    {
      name: "buildah",
      prepare: () => (buildahRoot = mkdtempSync(`${work}/buildah-`)),
      build: () =>
        run(["buildah", "--root", `${buildahRoot}/root`, "--runroot", `${buildahRoot}/run`, "--storage-driver", "overlay", "bud", "--tls-verify=false", "--layers=false", ctx]),
      cleanup: () => {
        quiet(["buildah", "--root", `${buildahRoot}/root`, "--runroot", `${buildahRoot}/run`, "--storage-driver", "overlay", "rmi", "-a", "-f"]);
        rmSync(buildahRoot, { recursive: true, force: true });
      },
    },
  ];
}

async function main(): Promise<void> {
  buildBinary();
  const env = await startTestEnv();
  const work = mkdtempSync(`${tmpdir()}/kitbuild-bench-`);
  try {
    const layers = [(await busyboxImage()).layers[0] as Uint8Array, ...(await baseImageLayers())];
    const size = layers.reduce((n, l) => n + l.length, 0);
    // One history entry per layer: buildah checks that they agree.
    const history = layers.map((_, i) => ({ created: "1970-01-01T00:00:00Z", created_by: `kitbuild bench: layer ${i}` }));
    const config = { ...(await busyboxImage()).config, history };
    await pushImage(env.registry, "bench/base", "latest", { layers, config });
    const image = `${env.registry}/bench/base:latest`;
    const ctx = `${work}/ctx`;
    run(["mkdir", "-p", ctx]);
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${image}\nRUN true\n`);
    const manifest = (await (await fetch(`http://${env.registry}/v2/bench/base/manifests/latest`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } })).json()) as { layers: Array<{ size: number }> };
    const compressed = manifest.layers.reduce((n, l) => n + l.size, 0);
    console.log(`base image: ${layers.length} layers, ${(size / 1e6).toFixed(0)} MB (${(compressed / 1e6).toFixed(0)} MB gzipped); ${runs} cold runs each`);
    const results = new Map<string, number[]>();
    for (let i = 0; i < runs; i++) {
      for (const tool of tools(ctx, image, work)) {
        tool.prepare();
        // Each tool starts with nothing left to write back from the one before (their fsyncs
        // would otherwise wait for the previous tool's ~200 MB).
        run(["sync"]);
        try {
          const t = timed(tool.build);
          results.set(tool.name, [...(results.get(tool.name) ?? []), t]);
        } finally {
          tool.cleanup();
        }
      }
    }
    const kit = median(results.get("kitbuild") ?? [NaN]);
    for (const [name, times] of results) {
      console.log(`${name.padEnd(24)} median ${median(times).toFixed(2)} s  (runs: ${times.map((t) => t.toFixed(2)).join(", ")})`);
    }
    // Below 1: kitbuild took less time than the other tool.
    const ratios = [...results].filter(([name]) => name !== "kitbuild").map(([name, times]) => `${(kit / median(times)).toFixed(2)}x ${name}'s`);
    console.log(`kitbuild's time: ${ratios.join(", ")}`);
  } finally {
    await env.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
