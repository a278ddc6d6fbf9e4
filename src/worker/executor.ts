// The executor contract: what runs one RUN step's process in a prepared root filesystem, as
// BuildKit's executor.Executor. The caller (control/ops/exec.ts) turns snapshots, the context and
// cache mounts into host paths and decides the step's environment; the executor does everything
// about the container itself: its state directory, the user, the working directory, the /etc
// files, secret files, ssh sockets, the runtime and its output. Implementations: worker/runc/.
import type { Platform } from "../oci/types.ts";
import type { VertexProgress } from "../util/progress.ts";

/** PATH when the step sets none (BuildKit's default for Linux). */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Told about helper processes and temp directories, so they are cleaned up even if kitbuild is killed. */
export type HelperTracker = { started(pid: number): void; ended(pid: number): void; tempDir(path: string): void };

export type ProcessMeta = {
  args: string[];
  /** The step's variables in order; the executor adds PATH and HOME (of the resolved user) when unset. */
  env: string[];
  /**
   * Variables the session adds (SSH_AUTH_SOCK, secrets), placed after PATH and HOME so they win;
   * they are not looked at when deciding whether PATH or HOME is set.
   */
  sessionEnv: string[];
  cwd: string;
  /** USER as written ("name", "uid", "name:group", "uid:gid"; "" is root), resolved by the executor in the rootfs. */
  user: string;
  /** undefined: the executor's default ("buildkitsandbox"). */
  hostname: string | undefined;
  /**
   * sandbox: a network namespace of the step's own with outbound access through user-mode
   * networking (no route to the host's loopback); host: the host's network; none: only loopback.
   */
  network: NetworkMode;
  /** Whether the build was granted network.host: a sandbox without user-mode networking then falls back to the host's network. */
  hostNetworkAllowed: boolean;
  /** Entries added to the step's /etc/hosts (--add-host), addresses already resolved. */
  extraHosts: ExtraHost[];
  /** --ulimit: rlimits by docker's names (nofile, nproc, …), -1 unlimited; those unset keep the executor's defaults. */
  ulimits: Array<{ name: string; soft: number; hard: number }>;
  /** Bytes of /dev/shm; undefined: 64 MiB, as BuildKit. */
  shmSize?: number;
  security: "sandbox" | "insecure";
  /** The step's platform; undefined or the host's runs natively, another one under emulation. */
  platform?: Platform;
};

export type NetworkMode = "sandbox" | "host" | "none";

export type ExtraHost = { host: string; ip: string };

/**
 * A mount in executor terms; `dest` is an absolute path in the container. The caller owns the host
 * paths of binds (and keeps them until run() returns); the executor owns what it creates for
 * secret and ssh mounts and removes it before run() returns.
 */
export type Mount =
  | { kind: "bind"; source: string; dest: string; readonly: boolean }
  | { kind: "tmpfs"; dest: string; size: number; readonly: boolean }
  /** A file with `data`, written by the executor into its own memory-backed state directory. */
  | { kind: "secret"; dest: string; data: Uint8Array; uid: number; gid: number; mode: number }
  /**
   * A socket forwarding (read-only) to an ssh agent; `agentSocket` yields the agent's socket and may
   * start an agent, reported to the executor's helper tracker.
   */
  | { kind: "ssh"; dest: string; uid: number; gid: number; mode: number; agentSocket: (helpers: HelperTracker, signal: AbortSignal) => Promise<string> };

export type RunRequest = {
  /** The root filesystem, mounted on the host by the caller; stubs of mount points are removed again afterwards. */
  rootfs: string;
  readonlyRoot: boolean;
  process: ProcessMeta;
  mounts: Mount[];
  /** Where the process's output goes (within the executor's log limits). */
  progress: VertexProgress;
  /** Aborting kills the process; run() then rejects with E_CANCELED. */
  signal: AbortSignal;
  /** Whether other sandboxed steps of the build have yet to start (the executor may ready their network meanwhile). */
  moreSandboxedSteps: boolean;
};

export type RunOutcome = {
  exitCode: number;
  /** The last lines of the process's output, for the error of a failing step. */
  tail: string[];
};

export type Executor = {
  /**
   * Readies the executor for a step, before the caller mounts anything for it: fails early when the
   * runtime is missing, and starts whatever cleans up after a killed kitbuild (so a kill while the
   * step's mounts are prepared, or while it waits for a locked cache mount, leaves nothing behind).
   */
  prepare(): void;
  /**
   * Runs the process to completion. A non-zero exit is an outcome, not an error; errors are the
   * executor's own (E_RUNC_*, E_RUN_USER, E_RUN_SSH, …). Safe to call concurrently; nothing is left
   * to release when it settles.
   */
  run(req: RunRequest): Promise<RunOutcome>;
  /** Removes what executors of dead kitbuild processes left (containers, state directories). */
  cleanupOrphans(): Promise<void>;
  /**
   * A step with the sandboxed network will run once its inputs are ready: the executor may make its
   * network meanwhile. Never fails; release() releases what no step took.
   */
  expectSandboxedStep(): void;
  /** Releases what the executor readied for steps that never came; called once no step runs any more. */
  release(): Promise<void>;
};

/**
 * The process's whole environment, the same for every executor: the step's variables, PATH and HOME
 * (the resolved user's `home`) when the step sets none, then the session's variables.
 */
export function processEnv(meta: Pick<ProcessMeta, "env" | "sessionEnv">, home: string): string[] {
  const env = [...meta.env];
  const has = (name: string) => env.some((e) => e.startsWith(`${name}=`));
  if (!has("PATH")) env.push(`PATH=${DEFAULT_PATH}`);
  if (!has("HOME")) env.push(`HOME=${home}`);
  return [...env, ...meta.sessionEnv];
}
