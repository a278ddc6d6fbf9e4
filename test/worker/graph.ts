// Hand-built build graphs solved in this process as a build solves them (control/solve-definition.ts:
// the real solver, the op runners, runc and the snapshotter), for RUN features the Dockerfile
// frontend does not emit yet (RUN --mount). Each solve opens its own environment on the given cache
// root, exactly as one kitbuild build does.
import { exportLocal } from "../../src/exporter/local.ts";
import { marshal, node, output, type Output } from "../../src/llb/builder.ts";
import type { ExecMount, ExecOp } from "../../src/llb/ops.ts";
import { hostPlatform } from "../../src/oci/platform.ts";
import { readConfig } from "../../src/control/config.ts";
import { openEnvironment } from "../../src/control/environment.ts";
import { snapshotIdOf } from "../../src/control/refs.ts";
import { BuildSession } from "../../src/control/session.ts";
import { definitionSolver } from "../../src/control/solve-definition.ts";
import type { ProgressEvent } from "../../src/util/progress.ts";
import { type ExecOptions, ExecServices } from "../../src/worker/session/exec-services.ts";
import { tempDir } from "../harness.ts";

/** A fresh cache root, runc root and output directory under one temp directory. */
export function roots(prefix: string) {
  const work = tempDir(prefix);
  return { work, root: `${work}/root`, runcRoot: `${work}/runc`, out: `${work}/out` };
}

export const image = (ref: string): Output =>
  output(node({ kind: "source", identifier: `docker-image://${ref}`, attrs: {} }, [], { name: `FROM ${ref}` }));

export const context = (): Output =>
  output(node({ kind: "source", identifier: "local://context", attrs: {} }, [], { name: "context" }));

export const scratchMkdir = (path: string, mode: number, uid: number, gid: number): Output =>
  output(node({ kind: "file", base: -1, actions: [{ action: "mkdir", path, mode, makeParents: true, owner: { user: uid, group: gid } }] }, [], { name: `mkdir ${path}` }));

export type RunSpec = {
  /** Extra mounts after the root; their `input` indexes count from 1 (0 is the root's input). */
  mounts?: ExecMount[];
  /** The inputs those mounts read, in order (input 1, 2, …). */
  inputs?: Output[];
  user?: string;
  env?: string[];
  cwd?: string;
  secretEnv?: ExecOp["secretEnv"];
  network?: ExecOp["network"];
  proxyEnv?: Record<string, string>;
};

/** A RUN of `sh -c script` on `root`; output 0 is the root, mounts may export more outputs. */
export function run(root: Output, script: string, spec: RunSpec = {}) {
  const op: ExecOp = {
    kind: "exec",
    meta: {
      args: ["/bin/sh", "-c", script],
      env: spec.env ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      cwd: spec.cwd ?? "/",
      user: spec.user ?? "",
      ...(spec.proxyEnv ? { proxyEnv: spec.proxyEnv } : {}),
    },
    mounts: [{ type: "bind", dest: "/", input: 0, output: 0, readonly: false }, ...(spec.mounts ?? [])],
    ...(spec.secretEnv ? { secretEnv: spec.secretEnv } : {}),
    network: spec.network ?? "sandbox",
    security: "sandbox",
  };
  return node(op, [root, ...(spec.inputs ?? [])], { name: `RUN ${script}` });
}

export type SolveOptions = {
  root: string;
  runcRoot: string;
  contextDir?: string;
  exec?: Partial<Omit<ExecOptions, "env">>;
  env?: Record<string, string>;
  /** Export the result's filesystem here. */
  exportTo?: string;
  noCache?: boolean;
  signal?: AbortSignal;
  /** Sees each progress event as it happens. */
  progress?: (e: ProgressEvent) => void;
};

export type Solved = { events: ProgressEvent[]; logs: string; error?: unknown };

/** Solves the graph ending at `out`; never throws: a failure is returned with the progress seen. */
export async function solve(out: Output, opts: SolveOptions): Promise<Solved> {
  const events: ProgressEvent[] = [];
  const env = { PATH: process.env.PATH, KITBUILD_ROOT: opts.root, KITBUILD_RUNC_ROOT: opts.runcRoot, ...opts.env };
  const signal = opts.signal ?? new AbortController().signal;
  try {
    const config = readConfig(env);
    await using exec = new ExecServices({ secrets: [], ssh: [], allow: [], ...opts.exec, env });
    await using benv = await openEnvironment({ config, env, insecureRegistries: [] });
    const session = new BuildSession(benv, opts.contextDir ?? "/nonexistent", hostPlatform(), signal, exec);
    const solver = definitionSolver(session, marshal(out), {
      maxParallelism: 2,
      noCache: opts.noCache ?? false,
      progress: (e) => {
        events.push(e);
        opts.progress?.(e);
      },
      signal,
    });
    const result = await solver.solve();
    try {
      if (opts.exportTo) {
        const id = snapshotIdOf(result);
        await using view = id === null ? undefined : await benv.snapshotter.mountReadonly(id);
        await exportLocal(view?.path, opts.exportTo, { vertex: "export", log() {}, status() {}, statusDone() {}, warn() {}, note() {} }, signal);
      }
    } finally {
      await result.release();
    }
    return { events, logs: logsOf(events) };
  } catch (error) {
    return { events, logs: logsOf(events), error };
  }
}

function logsOf(events: ProgressEvent[]): string {
  return events.map((e) => (e.type === "log" ? Buffer.from(e.data).toString("utf8") : "")).join("");
}
