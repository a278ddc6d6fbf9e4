// Benchmark: a small C program built for linux/amd64 and linux/arm64 at once with the
// cross-compilation pattern (a `FROM --platform=$BUILDPLATFORM` Debian builder that installs gcc and
// the aarch64 cross compiler in a cached RUN, then `$CC -static` per TARGETARCH, natively), the
// source changed before each run so both compile steps run again. Beside it the same build for the
// host's platform alone, and BuildKit's two-platform build when this docker can do one (it needs
// the buildx plugin and a builder that exports several platforms; Debian's docker.io 20.10 has
// neither, and the bench then says so). The first build (apt-get from deb.debian.org) is reported
// on its own. Needs root, runc and the network to the Debian mirror.
//   bun scripts/bench/multi-platform.ts [--runs N]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { hostPlatform } from "../../src/oci/platform.ts";
import { debianImage } from "../test-debian.ts";
import { startTestEnv } from "../test-env.ts";
import { KITBUILD, numberArg, report, run, type Timing } from "./lib.ts";

const RUNS = numberArg("runs", 5);
const host = hostPlatform().architecture;
if (host !== "amd64") throw new Error(`this bench cross-compiles from amd64 (gcc-aarch64-linux-gnu); this host is ${host}`);
const PLATFORMS = "linux/amd64,linux/arm64";

function dockerfile(builder: string): string {
  return [
    `FROM --platform=$BUILDPLATFORM ${builder} AS builder`,
    "RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross && rm -rf /var/lib/apt/lists/*",
    "WORKDIR /src",
    "COPY hello.c .",
    "ARG TARGETARCH",
    "ARG BUILDARCH",
    'RUN if [ "$TARGETARCH" = "$BUILDARCH" ]; then CC=gcc; else case "$TARGETARCH" in arm64) CC=aarch64-linux-gnu-gcc ;; *) echo "no cross compiler for $TARGETARCH" >&2; exit 1 ;; esac; fi && $CC -static -O2 -o /hello hello.c',
    "FROM scratch",
    "COPY --from=builder /hello /hello",
    'ENTRYPOINT ["/hello"]',
    "",
  ].join("\n");
}

/** The program, different each run so its compile steps miss the cache. */
function writeSource(ctx: string, n: number): void {
  writeFileSync(`${ctx}/hello.c`, `#include <stdio.h>\nint main(void) { printf("hello from run ${n}\\n"); return 0; }\n`);
}

/** Why BuildKit cannot make the two-platform build here, or undefined when it can (buildx's). */
function buildkitMultiPlatformUnavailable(ctx: string, out: string): string | undefined {
  if (spawnSync("/usr/bin/docker", ["buildx", "version"], { stdio: "ignore" }).status !== 0) {
    return "docker has no buildx plugin (Debian's docker.io 20.10: `DOCKER_BUILDKIT=1 docker build` builds one platform per build; several need buildx)";
  }
  const probe = spawnSync("/usr/bin/docker", ["buildx", "build", "--platform", PLATFORMS, "-o", `type=local,dest=${out}`, ctx], { encoding: "utf8" });
  if (probe.status !== 0) return `docker buildx build --platform ${PLATFORMS} failed: ${probe.stderr.trim().split("\n").at(-1)}`;
  return undefined;
}

type Variant = { name: string; cmd: string; args: string[]; env: Record<string, string> };

/** Runs the variants in turn, RUNS rounds, so a slower moment of the machine falls on each alike. */
function alternate(variants: Variant[], ctx: string, counter: { n: number }): Timing[] {
  const timings: Timing[] = variants.map((v) => ({ name: v.name, seconds: [] }));
  for (let r = 0; r < RUNS; r++) {
    variants.forEach((v, i) => {
      writeSource(ctx, ++counter.n);
      const t0 = performance.now();
      run(v.cmd, v.args, { env: v.env });
      timings[i]?.seconds.push((performance.now() - t0) / 1000);
    });
  }
  return timings;
}

const env = await startTestEnv();
const work = mkdtempSync(`${tmpdir()}/kitbuild-bench-multi-`);
try {
  const debian = await debianImage(env.registry);
  if (debian.kind !== "ready") throw new Error(`the Debian test image is unavailable: ${debian.reason}`);
  const ctx = `${work}/ctx`;
  run("mkdir", ["-p", ctx]);
  writeFileSync(`${ctx}/Dockerfile`, dockerfile(debian.ref));
  const counter = { n: 0 };
  writeSource(ctx, counter.n);
  const kitEnv = { KITBUILD_ROOT: `${work}/kitbuild-root` };
  const out = `${work}/out`;
  const two = ["build", "--progress=quiet", "--platform", PLATFORMS, "-o", `type=local,dest=${out}`, ctx];
  const one = ["build", "--progress=quiet", "--platform", "linux/amd64", "-o", `type=local,dest=${out}-one`, ctx];

  const t0 = performance.now();
  run(KITBUILD, two, { env: kitEnv });
  console.log(`first two-platform build (apt-get install from the Debian mirror included): ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  for (const [dir, machine] of [["linux_amd64", 0x3e], ["linux_arm64", 0xb7]] as const) {
    const got = Buffer.from(await Bun.file(`${out}/${dir}/hello`).bytes()).readUInt16LE(18);
    if (got !== machine) throw new Error(`${dir}/hello is for ELF machine ${got}, expected ${machine}`);
  }

  const variants: Variant[] = [
    { name: `kitbuild ${PLATFORMS}`, cmd: KITBUILD, args: two, env: kitEnv },
    { name: "kitbuild linux/amd64 alone", cmd: KITBUILD, args: one, env: kitEnv },
  ];
  const why = buildkitMultiPlatformUnavailable(ctx, `${work}/docker-out`);
  if (why) console.log(`BuildKit: skipped (${why})`);
  else variants.push({ name: `BuildKit (buildx) ${PLATFORMS}`, cmd: "/usr/bin/docker", args: ["buildx", "build", "-q", "--platform", PLATFORMS, "-o", `type=local,dest=${work}/docker-out`, ctx], env: {} });
  run(KITBUILD, one, { env: kitEnv }); // its output directory made once, as the two-platform one was
  const timings = alternate(variants, ctx, counter);
  report("a C program cross-compiled for two platforms (source changed each run; apt-get step cached)", timings);
} finally {
  await env.stop();
  rmSync(work, { recursive: true, force: true });
}
