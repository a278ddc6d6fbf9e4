// BuildKit as the benchmarks run it: Debian's docker.io (20.10) with DOCKER_BUILDKIT=1 through
// /usr/bin/docker (/usr/local/bin/docker wants buildx). dockerd is started when it is not running,
// and stopped again at the end by whoever started it.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";

export const DOCKER = "/usr/bin/docker";
export const BUILDKIT_ENV = { DOCKER_BUILDKIT: "1" };

const daemonUp = () => spawnSync(DOCKER, ["info"], { stdio: "ignore" }).status === 0;

/** A running docker daemon, or undefined (with the reason printed) when there can be none. */
export async function ensureDocker(): Promise<{ stop(): Promise<void> } | undefined> {
  if (!existsSync(DOCKER) || !Bun.which("dockerd")) {
    console.log("BuildKit: skipped (docker.io is not installed: apt-get install docker.io)");
    return undefined;
  }
  if (daemonUp()) return { stop: async () => {} };
  const log = openSync("/tmp/kitbuild-bench-dockerd.log", "a");
  const child = spawn("dockerd", [], { stdio: ["ignore", log, log], detached: true });
  closeSync(log);
  for (let i = 0; i < 120 && !daemonUp(); i++) await Bun.sleep(250);
  if (!daemonUp()) {
    child.kill("SIGTERM");
    console.log("BuildKit: skipped (dockerd did not start; see /tmp/kitbuild-bench-dockerd.log)");
    return undefined;
  }
  return {
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
    },
  };
}
