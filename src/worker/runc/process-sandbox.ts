// Whether a step can have a process sandbox (a pid namespace with a /proc of its own) in this user
// namespace. The kernel refuses a new /proc where the visible one has parts covered (a container's
// masked paths), as in a nested rootless container; BuildKit then runs steps without one
// (--oci-worker-no-process-sandbox): the host's /proc bound in, no pid namespace.
import { spawnSync } from "node:child_process";

let answer: boolean | undefined;

/** Tried once per process, with util-linux unshare: a pid namespace and a fresh /proc in it. */
export function canMountProc(): boolean {
  if (answer === undefined) {
    const unshare = Bun.which("unshare");
    const res = unshare ? spawnSync(unshare, ["--pid", "--fork", "--mount", "--mount-proc", "true"], { stdio: "ignore", timeout: 10_000 }) : undefined;
    // Without unshare nothing can be tried: keep the sandbox and let runc report a failure.
    answer = res === undefined || res.status === 0;
  }
  return answer;
}

export const NO_PROCESS_SANDBOX_WARNING =
  "a fresh /proc cannot be mounted here (the visible one has masked parts, as in a nested container): steps run without a process sandbox, seeing the host's /proc and processes, as BuildKit's --oci-worker-no-process-sandbox";
