// Benchmark: a fresh machine (an empty cache root) that imports a remote cache, against a warm local
// rebuild plus the time to download the layers it needs, for a Debian build with apt-get (B4-like).
// Also kitbuild's own cold build, for scale. The goal: remote <= 1.5 x (warm + download).
//   bun scripts/bench/remote-cache.ts [--runs N]          (as root; needs debootstrap and Debian's mirror)
// BuildKit is not compared: docker 20.10's builder cannot export a registry cache (that needs
// buildx, which is not installable here), and its inline cache is another feature.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { debianImage } from "../test-debian.ts";
import { startTestEnv } from "../test-env.ts";
import { median, numberArg, run } from "./lib.ts";

const RUNS = numberArg("runs", 3);
const kitbuild = `${new URL("../..", import.meta.url).pathname}dist/kitbuild`;

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
  }
  const [warm, remote, download] = [median(times.warm), median(times.remote), median(times.download)];
  console.log(`\nDebian + apt-get build, fresh machine with a remote cache (medians of ${RUNS})`);
  console.log(`  cold build (no cache)             ${cold.toFixed(3)}s`);
  console.log(`  warm local rebuild                ${warm.toFixed(3)}s`);
  console.log(`  pulling the final image's layers  ${download.toFixed(3)}s`);
  console.log(`  fresh machine + --cache-from      ${remote.toFixed(3)}s`);
  console.log(`  remote / (warm + download) = ${(remote / (warm + download)).toFixed(2)} (goal <= 1.5); remote / cold = ${(remote / cold).toFixed(2)}`);
} finally {
  await env.stop();
  rmSync(work, { recursive: true, force: true });
}
