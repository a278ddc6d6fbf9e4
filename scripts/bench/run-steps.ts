// Benchmark: ten RUN steps rebuilt without the cache, so each pays for its container and its
// network: kitbuild's default sandbox (own network namespace through pasta), kitbuild with the
// host's network, and BuildKit (docker build, its default network), alternating in one run.
//   bun scripts/bench/run-steps.ts [--steps N] [--runs N]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { startTestEnv } from "../test-env.ts";
import { dockerAvailable, numberArg, report, run, type Timing, KITBUILD } from "./lib.ts";

const STEPS = numberArg("steps", 10);
const RUNS = numberArg("runs", 5);
const kitbuild = KITBUILD;

const env = await startTestEnv();
const work = mkdtempSync(`${tmpdir()}/kitbuild-bench-`);
try {
  const ctx = `${work}/ctx`;
  run("mkdir", ["-p", ctx]);
  const steps = Array.from({ length: STEPS }, (_, i) => `RUN echo step ${i} > /step-${i}`);
  writeFileSync(`${ctx}/Dockerfile`, [`FROM ${env.busybox}`, ...steps, ""].join("\n"));
  const kit = { env: { KITBUILD_ROOT: `${work}/kitbuild-root` } };
  const variants: Array<{ name: string; cmd: string; args: string[]; env?: Record<string, string> }> = [
    { name: "kitbuild (sandboxed network)", cmd: kitbuild, args: ["build", "--progress=quiet", "--no-cache", ctx], ...kit },
    { name: "kitbuild --network=host", cmd: kitbuild, args: ["build", "--progress=quiet", "--no-cache", "--network=host", "--allow", "network.host", ctx], ...kit },
  ];
  if (dockerAvailable()) {
    variants.push({ name: "BuildKit (docker build)", cmd: "/usr/bin/docker", args: ["build", "-q", "--no-cache", "-t", "kitbuild-bench-steps", ctx], env: { DOCKER_BUILDKIT: "1" } });
  } else {
    console.log("BuildKit: skipped (no docker daemon running; start dockerd)");
  }
  for (const v of variants) run(v.cmd, v.args, v);
  const timings: Timing[] = variants.map((v) => ({ name: v.name, seconds: [] }));
  // Alternating, so a slower moment of the machine falls on every tool alike.
  for (let r = 0; r < RUNS; r++) {
    variants.forEach((v, i) => {
      const t0 = performance.now();
      run(v.cmd, v.args, v);
      timings[i]?.seconds.push((performance.now() - t0) / 1000);
    });
  }
  report(`${STEPS} RUN steps with --no-cache`, timings);
} finally {
  await env.stop();
  rmSync(work, { recursive: true, force: true });
}
