// A throw-away dockerd for one cold BuildKit round: its own data root, exec root, pid file, socket
// and bridge, so nothing the user's docker holds (images, the build cache, layers kept by records
// `docker builder prune` cannot remove) can make the round warm, and the user's docker is untouched.
// Its bridge is one this script creates (docker0 may belong to a running dockerd), with iptables,
// forwarding and masquerading left alone: RUN gets a network namespace as with a default dockerd,
// without a route out, which the benchmarks do not need. The loopback registry works: dockerd
// treats 127.0.0.0/8 as insecure by default.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { DOCKER } from "./docker.ts";

export type PrivateDocker = {
  /** For DOCKER_HOST. */
  host: string;
  /** Stops the daemon (it unmounts its layers) and removes the bridge; the data root stays. */
  stop(): Promise<void>;
};

function sh(argv: string[]): void {
  const res = spawnSync(argv[0] as string, argv.slice(1), { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`${argv.join(" ")} failed (${res.status}): ${res.stderr}`);
}

const answers = (host: string) => spawnSync(DOCKER, ["-H", host, "info"], { stdio: "ignore" }).status === 0;

function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[1] ?? "")
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
}

/** Starts dockerd with everything under `dir` (a new directory) and waits until it answers. */
export async function startPrivateDocker(dir: string, bridge: { name: string; cidr: string }): Promise<PrivateDocker> {
  mkdirSync(dir, { recursive: true });
  // No /etc/docker/daemon.json settings (a data root there would be shared).
  writeFileSync(`${dir}/daemon.json`, "{}\n");
  sh(["ip", "link", "add", bridge.name, "type", "bridge"]);
  sh(["ip", "addr", "add", bridge.cidr, "dev", bridge.name]);
  sh(["ip", "link", "set", bridge.name, "up"]);
  const host = `unix://${dir}/sock`;
  const log = openSync(`${dir}/dockerd.log`, "a");
  const child = spawn(
    "dockerd",
    [
      `--data-root=${dir}/data`, `--exec-root=${dir}/exec`, `--pidfile=${dir}/dockerd.pid`, `-H=${host}`,
      `--config-file=${dir}/daemon.json`, `--bridge=${bridge.name}`,
      "--iptables=false", "--ip-forward=false", "--ip-masq=false",
    ],
    { stdio: ["ignore", log, log] },
  );
  closeSync(log);
  const exited = new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
  const stop = async () => {
    try {
      child.kill("SIGTERM");
      await exited;
      // docker 20.10 sometimes leaves a build step's network namespace mounted as it stops (an
      // nsfs mount under its exec root), which failed a whole benchmark run: it is let go here.
      for (const point of mountsUnder(dir).reverse()) spawnSync("umount", ["-l", point], { stdio: "ignore" });
      const left = mountsUnder(dir);
      if (left.length) throw new Error(`dockerd left mounts under ${dir}: ${left.join(", ")}`);
    } finally {
      spawnSync("ip", ["link", "del", bridge.name], { stdio: "ignore" });
    }
  };
  for (let i = 0; i < 240 && child.exitCode === null && !answers(host); i++) await Bun.sleep(250);
  if (!answers(host)) {
    await stop();
    throw new Error(`the private dockerd did not start; see ${dir}/dockerd.log`);
  }
  return { host, stop };
}
