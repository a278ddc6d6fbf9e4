// The runc executor: each step is a container "kitbuild-<pid>-<n>" (crash cleanup finds the
// containers and state directories of dead processes by that name) whose bundle, /etc files, secret
// files, ssh sockets and network namespace live in a tmpfs state directory under <root>/executor.
// A sandboxed step's network (worker/network/) is set up before runc starts and torn down after it
// ends, however it ends. runc is found on the first step that needs it, so a build without RUN does
// not need runc.
import { mkdirInRoot } from "../../fs/mkdir-in-root.ts";
import { KitError } from "../../util/errors.ts";
import { isProcessAlive } from "../../util/process.ts";
import { type Executor, type HelperTracker, type NetworkMode, processEnv, type RunOutcome, type RunRequest } from "../executor.ts";
import type { LogLimits } from "../log-limit.ts";
import { findPasta, killOrphanPastas } from "../network/pasta.ts";
import { openStepNetwork, PASTA_MISSING_WARNING, type StepNetwork } from "../network/step-network.ts";
import { DEFAULT_HOSTNAME, hasLoopbackResolver, hostResolvConf, writeEtcFiles } from "./etc-files.ts";
import { ETC_MOUNT_TARGETS, recordMountStubs } from "./mount-stubs.ts";
import { SandboxNetworks } from "./sandbox-networks.ts";
import { ensureReaper } from "./reaper.ts";
import { checkRunc, deleteOrphanContainers, hasOrphanContainers, locateRunc, type Runc, type RuncPath, runContainer } from "./run.ts";
import { runtimeSpec } from "./spec.ts";
import { executorDir, openStepDir, orphanStepDirs, removeOrphanStepDirs } from "./step-dir.ts";
import { canMountProc, NO_PROCESS_SANDBOX_WARNING } from "./process-sandbox.ts";
import { ociMounts } from "./step-mounts.ts";
import { resolveUser } from "./user.ts";

export type RuncExecutorOptions = {
  /** The cache root, where state directories live. */
  root: string;
  /** runc's binary (undefined: found on PATH) and its state directory. */
  runc: { path: string | undefined; stateRoot: string };
  logLimits: LogLimits;
  /** Set when kitbuild runs in a user namespace; `singleId` when only one id is mapped. */
  userns?: { singleId: boolean };
};

/** Numbers containers (and networks made ahead) across every executor of this process, so ids never collide. */
let containers = 0;
const newContainerId = () => `kitbuild-${process.pid}-${++containers}`;

export class RuncExecutor implements Executor {
  private located: RuncPath | undefined;
  private checked: Promise<Runc> | undefined;
  private warnedNoSandbox = false;
  private warnedNoPasta = false;
  private pastaInstalled: boolean | undefined;
  private readonly networks: SandboxNetworks;

  constructor(private readonly opts: RuncExecutorOptions) {
    // Only used where pasta is installed: there is no fallback to the host's network to warn about.
    this.networks = new SandboxNetworks(opts.root, newContainerId, (dir, helpers, signal) => this.stepNetwork("sandbox", false, dir, helpers, signal, () => {}));
  }

  prepare(): void {
    ensureReaper(this.locate(), this.opts.root);
  }

  async run(req: RunRequest): Promise<RunOutcome> {
    const checking = this.runc();
    // Awaited once the step's container is ready to run: a step that fails before then must not
    // leave a failed check unhandled.
    checking.catch(() => {});
    const helpers = ensureReaper(this.locate(), this.opts.root);
    const id = newContainerId();
    await using step = openStepDir(this.opts.root, id);
    // Recorded before anything is created for the step (the working directory included), as BuildKit.
    const cleanStubs = recordMountStubs(req.rootfs, [...ETC_MOUNT_TARGETS, ...req.mounts.map((m) => m.dest)]);
    await using held = new AsyncDisposableStack();
    // Made while the mounts are; released after the container is deleted, before the step directory.
    const networkReady = this.openNetwork(req, step.path, helpers);
    networkReady.catch(() => {});
    held.defer(async () => {
      const network = await networkReady.catch(() => undefined);
      await network?.[Symbol.asyncDispose]();
    });
    try {
      const mounts = await ociMounts(req.mounts, { stepDir: step.path, helpers, signal: req.signal, held });
      const p = req.process;
      const user = resolveUser(req.rootfs, p.user);
      mkdirInRoot(req.rootfs, p.cwd, { uid: user.uid, gid: user.gid });
      const hostname = p.hostname ?? DEFAULT_HOSTNAME;
      const network = await networkReady;
      const etcFiles = writeEtcFiles(step.path, { hostname, network: network.mode, extraHosts: p.extraHosts, ...(network.dnsForward ? { dnsForward: network.dnsForward } : {}) });
      const spec = runtimeSpec({
        rootfs: req.rootfs, readonlyRoot: req.readonlyRoot, args: p.args, cwd: p.cwd, user, hostname,
        env: processEnv(p, user.home), network: network.mode, ...(network.netnsPath ? { netnsPath: network.netnsPath } : {}),
        security: p.security, etcFiles, mounts, userns: this.usernsSpec(req),
        ulimits: p.ulimits, ...(p.shmSize ? { shmSize: p.shmSize } : {}),
      });
      return await runContainer({
        runc: await checking, id, bundle: step.path, spec, progress: req.progress, logLimits: this.opts.logLimits, helpers, signal: req.signal,
      });
    } finally {
      cleanStubs();
    }
  }

  /**
   * The step's network (a sandbox maybe made ahead); without pasta, the first step that falls back
   * to the host's network warns.
   */
  private openNetwork(req: RunRequest, stepDir: string, helpers: HelperTracker): Promise<StepNetwork> {
    const { network, hostNetworkAllowed } = req.process;
    if (network === "sandbox" && this.hasPasta()) return this.networks.take(helpers, req.signal, req.moreSandboxedSteps);
    return this.stepNetwork(network, hostNetworkAllowed, stepDir, helpers, req.signal, () => {
      if (!this.warnedNoPasta) req.progress.warn(PASTA_MISSING_WARNING);
      this.warnedNoPasta = true;
    });
  }

  private stepNetwork(mode: NetworkMode, hostNetworkAllowed: boolean, stepDir: string, helpers: HelperTracker, signal: AbortSignal, warnFallback: () => void): Promise<StepNetwork> {
    return openStepNetwork({ mode, hostNetworkAllowed, stepDir, helpers, signal, loopbackResolver: hasLoopbackResolver(hostResolvConf()), warnFallback });
  }

  /** Whether pasta is on PATH, looked up once per executor rather than on every step. */
  private hasPasta(): boolean {
    this.pastaInstalled ??= findPasta() !== undefined;
    return this.pastaInstalled;
  }

  /** What the spec needs to know of the user namespace; the first step without a process sandbox warns. */
  private usernsSpec(req: RunRequest): { singleId: boolean; processSandbox: boolean } | undefined {
    if (!this.opts.userns) return undefined;
    const processSandbox = canMountProc();
    if (!processSandbox && !this.warnedNoSandbox) {
      this.warnedNoSandbox = true;
      req.progress.warn(NO_PROCESS_SANDBOX_WARNING);
    }
    return { singleId: this.opts.userns.singleId, processSandbox };
  }

  async cleanupOrphans(): Promise<void> {
    try {
      // runc keeps one state directory per container: only a dead kitbuild's container needs runc.
      if (hasOrphanContainers(this.opts.runc.stateRoot, isProcessAlive)) deleteOrphanContainers(this.locate(), isProcessAlive);
    } catch (e) {
      // A build without RUN steps needs no runc; one with them reports the problem when it gets there.
      if (!(e instanceof KitError && e.code.startsWith("E_RUNC_"))) throw e;
    }
    // A dead kitbuild's pasta (its netns) or runc (its bundle) lives in one of its step directories,
    // made before the helper starts and removed after it ends. Without such a directory there is
    // nothing to look for in every process's command line (0.5 ms with 70 processes, each build).
    const orphans = orphanStepDirs(this.opts.root, isProcessAlive);
    if (orphans.length === 0) return;
    killOrphanPastas(executorDir(this.opts.root), isProcessAlive);
    removeOrphanStepDirs(this.opts.root, orphans);
  }

  expectSandboxedStep(): void {
    if (!this.hasPasta()) return;
    let helpers: HelperTracker;
    try {
      helpers = ensureReaper(this.locate(), this.opts.root);
    } catch {
      // runc is missing: the step says so when it runs.
      return;
    }
    this.networks.makeAhead(helpers);
  }

  release(): Promise<void> {
    return this.networks.release();
  }

  /** runc's path, found when it is first needed (a failed lookup is tried again by the next step). */
  private locate(): RuncPath {
    this.located ??= locateRunc(this.opts.runc.path, this.opts.runc.stateRoot);
    return this.located;
  }

  /** runc, checked once, while the first step's mounts and network are made (a failed check is tried again by the next step). */
  private runc(): Promise<Runc> {
    this.checked ??= checkRunc(this.locate()).catch((e) => {
      this.checked = undefined;
      throw e;
    });
    return this.checked;
  }
}
