// Running one container with runc as a subprocess: output streamed to progress as it arrives (within
// the step's log limits), the container killed and deleted on abort, and containers left by crashed
// kitbuild processes removed.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { canceledError } from "../../util/abort.ts";
import { KitError } from "../../util/errors.ts";
import { exitStatus } from "../../util/process.ts";
import type { VertexProgress } from "../../util/progress.ts";
import { type LogLimits, StreamLimiter } from "../log-limit.ts";
import type { HelperTracker, RunOutcome } from "../executor.ts";

/** Where runc is, and its state directory. */
export type RuncPath = { path: string; root: string };
export type Runc = RuncPath & { version: string };

/** The oldest runc whose behaviour kitbuild relies on (OCI runtime spec 1.0 semantics). */
const MIN_RUNC = [1, 0, 0];

/** Finds runc: the configured path, else PATH. */
export function locateRunc(configured: string | undefined, stateRoot: string): RuncPath {
  const path = configured || Bun.which("runc");
  if (!path) {
    throw new KitError("E_RUNC_NOT_FOUND", "runc was not found", {
      hint: "install it (Debian/Ubuntu: apt-get install runc) or point KITBUILD_RUNC at the binary",
    });
  }
  return { path, root: stateRoot };
}

/**
 * Checks that runc runs and is recent enough. `runc --version` runs as a child the caller awaits:
 * run synchronously, it held up every other step starting at the same moment.
 */
export async function checkRunc(runc: RuncPath): Promise<Runc> {
  const version = await runcVersion(runc.path);
  if (version === undefined) {
    throw new KitError("E_RUNC_BROKEN", `"${runc.path}" does not run as runc (runc --version failed)`, {
      hint: "reinstall runc (Debian/Ubuntu: apt-get install --reinstall runc) or point KITBUILD_RUNC at a working binary",
    });
  }
  const parts = (/^(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  if (parts.length !== 3 || compareVersions(parts, MIN_RUNC) < 0) {
    throw new KitError("E_RUNC_VERSION", `runc ${version} at "${runc.path}" is too old: kitbuild needs ${MIN_RUNC.join(".")} or newer`, {
      hint: "upgrade runc (Debian/Ubuntu: apt-get install runc) or point KITBUILD_RUNC at a newer binary",
    });
  }
  return { ...runc, version };
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < b.length; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/** runc's version line, or undefined when it does not run (a missing file or one that cannot be executed among those). */
export async function runcVersion(path: string): Promise<string | undefined> {
  let child: Bun.Subprocess<"ignore", "pipe", "ignore">;
  try {
    child = Bun.spawn([path, "--version"], { stdin: "ignore", stdout: "pipe", stderr: "ignore", timeout: 5000 });
  } catch {
    return undefined;
  }
  const [status, stdout] = await Promise.all([child.exited, new Response(child.stdout).text()]);
  return status === 0 ? versionOf(stdout) : undefined;
}

function versionOf(stdout: string): string | undefined {
  return stdout.split("\n")[0]?.replace(/^runc version\s*/, "");
}

export type ContainerRun = {
  runc: Runc;
  id: string;
  bundle: string;
  spec: Record<string, unknown>;
  progress: VertexProgress;
  logLimits: LogLimits;
  /** Told about the runc process, so it is killed even if kitbuild is. */
  helpers?: HelperTracker;
  signal: AbortSignal;
};

const TAIL_LINES = 10;

/** Runs the container to completion; the bundle directory is the caller's to remove. */
export async function runContainer(req: ContainerRun): Promise<RunOutcome> {
  if (req.signal.aborted) throw canceledError(req.signal);
  try {
    mkdirSync(req.runc.root, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new KitError("E_RUNC_STATE", `cannot create runc's state directory "${req.runc.root}"`, { cause: e, hint: "set KITBUILD_RUNC_ROOT to a directory kitbuild may write" });
  }
  writeFileSync(`${req.bundle}/config.json`, JSON.stringify(req.spec));
  const tail = new TailLines(TAIL_LINES);
  const child = spawn(req.runc.path, ["--root", req.runc.root, "run", "--bundle", req.bundle, req.id], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, so a kill reaches everything it started
  });
  if (child.pid) req.helpers?.started(child.pid);
  const streams = ([1, 2] as const).map((n) => new StreamLimiter(req.logLimits, (d) => req.progress.log(n, d)));
  for (const [i, stream] of [child.stdout, child.stderr].entries()) {
    stream.on("data", (d: Buffer) => {
      tail.push(d);
      streams[i]?.write(d);
    });
  }
  const onAbort = () => killContainer(req.runc, req.id, child.pid);
  req.signal.addEventListener("abort", onAbort, { once: true });
  try {
    const exitCode = await new Promise<number>((resolve, reject) => {
      child.once("error", (e) => reject(new KitError("E_RUNC_START", `failed to start runc: ${e.message}`, { cause: e })));
      child.once("close", (code, sig) => resolve(exitStatus(code, sig)));
    });
    for (const s of streams) s.finish();
    if (req.signal.aborted) throw canceledError(req.signal);
    return { exitCode, tail: tail.lines() };
  } finally {
    req.signal.removeEventListener("abort", onAbort);
    deleteContainer(req.runc, req.id);
    if (child.pid) req.helpers?.ended(child.pid);
  }
}

function killContainer(runc: RuncPath, id: string, pid: number | undefined): void {
  spawnSync(runc.path, ["--root", runc.root, "kill", id, "KILL"], { stdio: "ignore", timeout: 5000 });
  if (pid) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/**
 * `runc run` deletes its container when the process exits; only a run that was killed or failed to
 * start leaves its state directory. Checking for it spares a blocking `runc delete` after every step.
 */
function deleteContainer(runc: RuncPath, id: string): void {
  if (!existsSync(`${runc.root}/${id}`)) return;
  spawnSync(runc.path, ["--root", runc.root, "delete", "--force", id], { stdio: "ignore", timeout: 10000 });
}

/** The kitbuild process a container belongs to (ids are "kitbuild-<pid>-<n>"), if it is one. */
function ownerPid(id: string): number | undefined {
  const m = /^kitbuild-(\d+)-/.exec(id);
  return m ? Number(m[1]) : undefined;
}

/** Whether runc's state root holds a container of a kitbuild process that is gone (no runc started). */
export function hasOrphanContainers(stateRoot: string, isAlive: (pid: number) => boolean): boolean {
  let ids: string[];
  try {
    ids = readdirSync(stateRoot);
  } catch {
    return false;
  }
  return ids.some((id) => {
    const pid = ownerPid(id);
    return pid !== undefined && !isAlive(pid);
  });
}

/** Deletes containers whose kitbuild process is gone. */
export function deleteOrphanContainers(runc: RuncPath, isAlive: (pid: number) => boolean): void {
  const res = spawnSync(runc.path, ["--root", runc.root, "list", "--format", "json"], { encoding: "utf8", timeout: 10000 });
  if (res.status !== 0 || !res.stdout.trim()) return;
  const list = (JSON.parse(res.stdout) as Array<{ id: string }> | null) ?? [];
  for (const c of list) {
    const pid = ownerPid(c.id);
    if (pid === undefined || isAlive(pid)) continue;
    // Its bundle is the step's tmpfs directory, which removeOrphanStepDirs unmounts and removes.
    deleteContainer(runc, c.id);
  }
}

/** Keeps the last lines of a stream, for the error report of a failing step. */
class TailLines {
  private readonly done: string[] = [];
  private partial = "";

  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    const parts = (this.partial + chunk.toString("utf8")).split("\n");
    this.partial = parts.pop() ?? "";
    this.done.push(...parts);
    if (this.done.length > this.max) this.done.splice(0, this.done.length - this.max);
  }

  lines(): string[] {
    const all = this.partial ? [...this.done, this.partial] : [...this.done];
    return all.slice(-this.max);
  }
}
