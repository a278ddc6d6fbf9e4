// Benchmark: a fresh machine (an empty cache root) that imports a remote cache, against a warm local
// rebuild plus the time to download the layers it needs, for a Debian build with apt-get (B4-like).
// Also kitbuild's own cold build, for scale. The goal: remote <= 1.5 x (warm + download).
//   bun scripts/bench/remote-cache.ts [--runs N]          (as root; needs debootstrap and Debian's mirror)
// BuildKit (docker 20.10's builder) cannot export a registry cache (that needs buildx, which is not
// installable here): it runs the same scenario with its inline cache (BUILDKIT_INLINE_CACHE=1, the
// image pushed, then `docker builder prune -af` and the image removed before --cache-from). The
// Dockerfile is one chain of steps, so the inline cache (the final image's steps) holds all of them.
// Each round runs kitbuild's builds, then BuildKit's.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { debianImage } from "../test-debian.ts";
import { startTestEnv } from "../test-env.ts";
import { dockerAvailable, median, numberArg, run, KITBUILD } from "./lib.ts";

const RUNS = numberArg("runs", 3);
const kitbuild = KITBUILD;

const env = await startTestEnv();
const work = mkdtempSync(`${tmpdir()}/kitbuild-bench-remote-`);
try {
  const debian = await debianImage(env.registry);
  if (debian.kind !== "ready") throw new Error(`no Debian image: ${debian.reason}`);
  const ctx = `${work}/ctx`;
  mkdirSync(ctx);
  writeFileSync(`${ctx}/Dockerfile`, [
    `FROM ${debian.ref}`,
    "RUN apt-get update && apt-get install -y --no-install-recommends xz-utils bzip2 && rm -rf /var/lib/apt/lists/*",
    "RUN head -c 20000000 /dev/urandom > /data.bin",
    "RUN echo done > /done",
    "",
  ].join("\n"));
  const ref = `${env.registry}/bench/remote-cache:latest`;
  const timed = (root: string, args: string[]) => {
    const t0 = performance.now();
    run(kitbuild, ["build", "--progress=quiet", ...args, ctx], { env: { KITBUILD_ROOT: root } });
    return (performance.now() - t0) / 1000;
  };
  const cold = timed(`${work}/origin`, ["--cache-to", `type=registry,ref=${ref},mode=max`]);
  const buildkit = dockerAvailable() ? buildkitRunner(ctx, `${env.registry}/bench/remote-buildkit:latest`, debian.ref) : undefined;
  const bk = buildkit ? { cold: buildkit.cold, warm: [] as number[], remote: [] as number[] } : undefined;
  const times = { warm: [] as number[], remote: [] as number[], download: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    times.warm.push(timed(`${work}/origin`, []));
    times.remote.push(timed(`${work}/fresh-${i}`, ["--cache-from", ref]));
    // The download alone: the same layers pulled as an image (a FROM of the final result, pushed once).
    if (i === 0) timed(`${work}/origin`, ["-o", `type=image,name=${env.registry}/bench/remote-final:latest,push=true`]);
    const pull = `${work}/pull-${i}`;
    mkdirSync(pull);
    writeFileSync(`${pull}/Dockerfile`, `FROM ${env.registry}/bench/remote-final:latest\nRUN true\n`);
    const t0 = performance.now();
    run(kitbuild, ["build", "--progress=quiet", pull], { env: { KITBUILD_ROOT: `${work}/pull-root-${i}` } });
    times.download.push((performance.now() - t0) / 1000);
    // BuildKit's round right after kitbuild's, so both see the machine in the same state.
    if (buildkit && bk) {
      const round = buildkit.round();
      bk.warm.push(round.warm);
      bk.remote.push(round.remote);
    }
  }
  const [warm, remote, download] = [median(times.warm), median(times.remote), median(times.download)];
  console.log(`\nDebian + apt-get build, fresh machine with a remote cache (medians of ${RUNS})`);
  console.log(`  cold build (no cache)             ${cold.toFixed(3)}s`);
  console.log(`  warm local rebuild                ${warm.toFixed(3)}s`);
  console.log(`  pulling the final image's layers  ${download.toFixed(3)}s`);
  console.log(`  fresh machine + --cache-from      ${remote.toFixed(3)}s`);
  console.log(`  remote / (warm + download) = ${(remote / (warm + download)).toFixed(2)} (goal <= 1.5); remote / cold = ${(remote / cold).toFixed(2)}`);
  if (!bk) console.log("  BuildKit: skipped (no docker daemon running; start dockerd)");
  else {
    console.log(`  BuildKit cold ${bk.cold.toFixed(3)}s, warm ${median(bk.warm).toFixed(3)}s, fresh + --cache-from (inline) ${median(bk.remote).toFixed(3)}s`);
    console.log(`  kitbuild's fresh + --cache-from takes ${(remote / median(bk.remote)).toFixed(2)}x BuildKit's; cold ${(cold / bk.cold).toFixed(2)}x`);
  }
} finally {
  await env.stop();
  Bun.spawnSync(["/usr/bin/docker", "builder", "prune", "-af"]);
  rmSync(work, { recursive: true, force: true });
}

/** BuildKit on the same Dockerfile: cold with an inline cache pushed; then per round, warm, and fresh (builder cache pruned) with --cache-from. */
function buildkitRunner(ctx: string, image: string, base: string): { cold: number; round(): { warm: number; remote: number } } {
  const docker = (args: string[]) => {
    const t0 = performance.now();
    run("/usr/bin/docker", args, { env: { DOCKER_BUILDKIT: "1" } });
    return (performance.now() - t0) / 1000;
  };
  const build = (extra: string[]) => docker(["build", "-q", "--build-arg", "BUILDKIT_INLINE_CACHE=1", ...extra, "-t", image, ctx]);
  const fresh = () => {
    run("/usr/bin/docker", ["builder", "prune", "-af"]);
    // The base image too: a fresh machine has neither (kitbuild's fresh cache root pulls it as well).
    Bun.spawnSync(["/usr/bin/docker", "rmi", "-f", image, base]);
  };
  fresh();
  const cold = build(["--no-cache"]);
  run("/usr/bin/docker", ["push", "-q", image]);
  return {
    cold,
    round() {
      const warm = build([]);
      fresh();
      return { warm, remote: build(["--cache-from", image]) };
    },
  };
}
