// Benchmark: exporting an image with a 200 MB layer to a tarball, the build itself cached.
//   kitbuild -o type=docker,compression=uncompressed   vs  BuildKit: docker build -t + docker save
//   kitbuild -o type=oci (gzip)                         vs  buildah push oci-archive: (gzip)
// (docker 20.10's built-in BuildKit cannot write type=oci; `docker save` is its path to a tarball.)
// kitbuild's layer is diffed and compressed afresh on every run (a new SOURCE_DATE_EPOCH each time
// makes a new layer variant), so nothing is served from an earlier run.
//   bun scripts/bench/export.ts [--mb N] [--runs N]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { startTestEnv } from "../test-env.ts";
import { buildahAvailable, dockerAvailable, report, run, type Timing, numberArg, KITBUILD } from "./lib.ts";

const MB = numberArg("mb", 200);
const RUNS = numberArg("runs", 3);
const kitbuild = KITBUILD;

function timed(name: string, times: number, body: (i: number) => void): Timing {
  const seconds: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    body(i);
    seconds.push((performance.now() - t0) / 1000);
  }
  return { name, seconds };
}

const env = await startTestEnv();
const work = mkdtempSync(`${tmpdir()}/kitbuild-bench-export-`);
try {
  const ctx = `${work}/ctx`;
  run("mkdir", ["-p", ctx]);
  // Half random, half zeros: a layer that compresses somewhat, like real ones.
  writeFileSync(`${ctx}/Dockerfile`, `FROM ${env.busybox}\nRUN head -c ${(MB / 2) * 1_000_000} /dev/urandom > /random && head -c ${(MB / 2) * 1_000_000} /dev/zero > /zeros\n`);
  const kitEnv = { KITBUILD_ROOT: `${work}/kitbuild-root` };
  run(kitbuild, ["build", "--progress=quiet", ctx], { env: kitEnv });
  const out = `${work}/out.tar`;
  const uncompressed: Timing[] = [
    timed("kitbuild type=docker (raw)", RUNS, (i) =>
      run(kitbuild, ["build", "--progress=quiet", "-o", `type=docker,dest=${out},name=bench:1,compression=uncompressed,rewrite-timestamp=true`, ctx], {
        env: { ...kitEnv, SOURCE_DATE_EPOCH: String(1_700_000_000 + i) },
      }),
    ),
  ];
  if (dockerAvailable()) {
    const docker = { env: { DOCKER_BUILDKIT: "1" } };
    run("/usr/bin/docker", ["build", "-q", "-t", "kitbuild-bench-export", ctx], docker);
    uncompressed.push(
      timed("BuildKit build -t + save", RUNS, () => {
        run("/usr/bin/docker", ["build", "-q", "-t", "kitbuild-bench-export", ctx], docker);
        run("/usr/bin/docker", ["save", "-o", out, "kitbuild-bench-export"]);
      }),
    );
  } else console.log("BuildKit: skipped (no docker daemon running; start dockerd)");
  report(`export of a ${MB} MB layer to an uncompressed image tarball (build cached)`, uncompressed);

  const gzip: Timing[] = [
    timed("kitbuild type=oci (gzip)", RUNS, (i) =>
      run(kitbuild, ["build", "--progress=quiet", "-o", `type=oci,dest=${out},rewrite-timestamp=true`, ctx], {
        env: { ...kitEnv, SOURCE_DATE_EPOCH: String(1_800_000_000 + i) },
      }),
    ),
  ];
  if (buildahAvailable()) {
    run("buildah", ["bud", "--layers", "--tls-verify=false", "-q", "-t", "kitbuild-bench-export", ctx]);
    gzip.push(
      timed("buildah push oci-archive", RUNS, () => {
        rmSync(out, { force: true });
        run("buildah", ["push", "kitbuild-bench-export", `oci-archive:${out}`]);
      }),
    );
  } else console.log("buildah: skipped (not installed)");
  report(`export of a ${MB} MB layer to a gzip OCI tarball (build cached)`, gzip);
} finally {
  await env.stop();
  rmSync(work, { recursive: true, force: true });
}
