// Benchmark: the same builds by root, by an unprivileged user (rootless, in kitbuild's own user
// namespace) and by BuildKit (docker build, as root: no rootless BuildKit is installable here),
// alternating in one run, each with a cache of its own:
//   B1  four independent stages (two CPU-bound, two waiting), uncached (--no-cache)
//   B3  one file changed in a 20,000-file context, then `COPY . /src` and a RUN
// The user is the tests' `kitbuild-rootless` (created with a subordinate range when missing).
//   bun scripts/bench/rootless.ts [--runs N] [--files N]        (as root)
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import { ensureUsers, runAs, sharedBinary, userDir } from "../../test/fixtures/users.ts";
import { startTestEnv } from "../test-env.ts";
import { dockerAvailable, manyFiles, median, numberArg, run } from "./lib.ts";

const RUNS = numberArg("runs", 5);
const FILES = numberArg("files", 20_000);

if (process.getuid?.() !== 0) {
  console.error("the benchmark needs root (it builds as root and as a user it creates)");
  process.exit(2);
}

const env = await startTestEnv();
const binary = sharedBinary();
const { rootless: user } = ensureUsers();
const work = userDir(user);

type Scenario = { title: string; ctx: string; args: string[]; before?: (i: number) => void };

async function timeAsUser(ctx: string, args: string[], root: string): Promise<number> {
  const t0 = performance.now();
  const res = await runAs(user, binary, work, ["build", "--progress=quiet", ...args, ctx], { env: { KITBUILD_ROOT: root } });
  if (res.code !== 0) throw new Error(`rootless build failed: ${res.stderr}`);
  return (performance.now() - t0) / 1000;
}

function timeDocker(ctx: string, args: string[]): number {
  const t0 = performance.now();
  run("/usr/bin/docker", ["build", "-q", ...args, ctx], { env: { DOCKER_BUILDKIT: "1" } });
  return (performance.now() - t0) / 1000;
}

function timeAsRoot(ctx: string, args: string[], root: string): number {
  const t0 = performance.now();
  run(binary, ["build", "--progress=quiet", ...args, ctx], { env: { KITBUILD_ROOT: root } });
  return (performance.now() - t0) / 1000;
}

async function measure(s: Scenario): Promise<void> {
  const roots = { root: `${work}/cache-root-${s.title.slice(0, 2)}`, user: `${work}/cache-user-${s.title.slice(0, 2)}` };
  const docker = dockerAvailable();
  timeAsRoot(s.ctx, [], roots.root);
  await timeAsUser(s.ctx, [], roots.user);
  if (docker) timeDocker(s.ctx, []);
  const times = { root: [] as number[], user: [] as number[], buildkit: [] as number[] };
  const order = (["root", "user", ...(docker ? ["buildkit"] : [])] as Array<keyof typeof times>);
  for (let i = 0; i < RUNS; i++) {
    // Who goes first rotates each round, so none always finds another's reads in the page cache.
    for (const who of [...order.slice(i % order.length), ...order.slice(0, i % order.length)]) {
      s.before?.(i);
      const t = who === "root" ? timeAsRoot(s.ctx, s.args, roots.root) : who === "user" ? await timeAsUser(s.ctx, s.args, roots.user) : timeDocker(s.ctx, s.args);
      times[who].push(t);
    }
  }
  const [r, u] = [median(times.root), median(times.user)];
  console.log(`\n${s.title}`);
  console.log(`  kitbuild as root      median ${r.toFixed(3)}s  (${RUNS} runs)`);
  console.log(`  kitbuild rootless     median ${u.toFixed(3)}s  (${RUNS} runs)`);
  if (docker) console.log(`  BuildKit (as root)    median ${median(times.buildkit).toFixed(3)}s  (${RUNS} runs)`);
  else console.log("  BuildKit: skipped (no docker daemon running; start dockerd)");
  console.log(`  rootless takes ${(u / r).toFixed(2)}x root's time${docker ? `, ${(u / median(times.buildkit)).toFixed(2)}x BuildKit's` : ""}`);
}

function context(name: string, dockerfile: string, fill?: (dir: string) => void): string {
  const dir = `${work}/${name}`;
  mkdirSync(dir);
  fill?.(dir);
  writeFileSync(`${dir}/Dockerfile`, dockerfile);
  run("chown", ["-R", `${user.uid}:${user.gid}`, dir]);
  return dir;
}

try {
  const busy = "RUN i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo $i > /out";
  const b1 = context("b1", [
    `FROM ${env.busybox} AS cpu1`, busy,
    `FROM ${env.busybox} AS cpu2`, busy.replace("/out", "/out2"),
    `FROM ${env.busybox} AS wait1`, "RUN sleep 1 && echo w1 > /out",
    `FROM ${env.busybox} AS wait2`, "RUN sleep 1 && echo w2 > /out",
    `FROM ${env.busybox}`, "COPY --from=cpu1 /out /a", "COPY --from=cpu2 /out2 /b", "COPY --from=wait1 /out /c", "COPY --from=wait2 /out /d", "",
  ].join("\n"));
  await measure({ title: "B1 four independent stages, uncached", ctx: b1, args: ["--no-cache"] });
  const b3 = context("b3", `FROM ${env.busybox}\nCOPY . /src\nRUN find /src -type f | wc -l > /count\n`, (dir) => manyFiles(dir, FILES));
  const changed = `${b3}/d0/f0.txt`;
  await measure({
    title: `B3 one file changed in a ${FILES}-file context, COPY . /src + RUN`,
    ctx: b3,
    args: [],
    before: (i) => {
      writeFileSync(changed, `changed ${i} ${performance.now()}\n`);
      chownSync(changed, user.uid, user.gid);
    },
  });
} finally {
  await env.stop();
}
