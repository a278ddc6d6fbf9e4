// Benchmark: a no-op rebuild (nothing changed) of a Dockerfile that copies a 20,000-file context,
// kitbuild against BuildKit (docker build) and buildah in the same run.
//   bun scripts/bench/noop-rebuild.ts [--files N] [--runs N]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { startTestEnv } from "../test-env.ts";
import { buildahAvailable, dockerAvailable, manyFiles, report, run, time, type Timing, numberArg, KITBUILD } from "./lib.ts";

const FILES = numberArg("files", 20_000);
const RUNS = numberArg("runs", 5);
const kitbuild = KITBUILD;

const env = await startTestEnv();
const work = mkdtempSync(`${tmpdir()}/kitbuild-bench-`);
try {
  const ctx = `${work}/ctx`;
  manyFiles(ctx, FILES);
  writeFileSync(`${ctx}/Dockerfile`, `FROM ${env.busybox}\nCOPY . /app\nRUN find /app -type f | wc -l > /count\n`);
  const cacheRoot = `${work}/kitbuild-root`;
  const kit = { env: { KITBUILD_ROOT: cacheRoot } };
  const timings: Timing[] = [];
  run(kitbuild, ["build", "--progress=quiet", ctx], kit);
  timings.push(time("kitbuild (no-op rebuild)", RUNS, kitbuild, ["build", "--progress=quiet", ctx], kit));
  if (dockerAvailable()) {
    const docker = { env: { DOCKER_BUILDKIT: "1" } };
    run("/usr/bin/docker", ["build", "-q", "-t", "kitbuild-bench-noop", ctx], docker);
    timings.push(time("BuildKit (docker build)", RUNS, "/usr/bin/docker", ["build", "-q", "-t", "kitbuild-bench-noop", ctx], docker));
  } else {
    console.log("BuildKit: skipped (no docker daemon running; start dockerd)");
  }
  if (buildahAvailable()) {
    const args = ["bud", "--layers", "--tls-verify=false", "-q", "-t", "kitbuild-bench-noop", ctx];
    run("buildah", args);
    timings.push(time("buildah bud --layers", RUNS, "buildah", args));
  } else {
    console.log("buildah: skipped (not installed)");
  }
  report(`no-op rebuild, ${FILES} files in the context`, timings);
} finally {
  await env.stop();
  rmSync(work, { recursive: true, force: true });
}
