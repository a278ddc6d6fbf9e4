// The exec op against the executor contract, with a fake executor instead of runc: what control hands
// the executor (process metadata, environment order, mounts as host paths) and what it does with
// the outcome (the rootfs committed as the result, a non-zero exit as E_RUN_FAILED). Solved through
// the same entry point as a build. Needs root (snapshots).
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { readConfig } from "../../src/control/config.ts";
import { openEnvironment } from "../../src/control/environment.ts";
import { snapshotIdOf } from "../../src/control/refs.ts";
import { BuildSession } from "../../src/control/session.ts";
import { definitionSolver } from "../../src/control/solve-definition.ts";
import { marshal, node, output, type Output } from "../../src/llb/builder.ts";
import type { ExecMount, ExecOp } from "../../src/llb/ops.ts";
import { hostPlatform } from "../../src/oci/platform.ts";
import { KitError } from "../../src/util/errors.ts";
import { DEFAULT_PATH, type Executor, processEnv, type RunOutcome, type RunRequest } from "../../src/worker/executor.ts";
import { ExecServices } from "../../src/worker/session/exec-services.ts";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir } from "../harness.ts";

const skip = skipBecause(!IS_ROOT, `exec op on a fake executor: ${NEEDS_ROOT}`);

type Seen = { process: RunRequest["process"]; env: string[]; mounts: unknown[]; readonlyRoot: boolean };

/** Records what it is asked to run, writes a file into the rootfs, and exits with `exitCode`. */
class FakeExecutor implements Executor {
  readonly seen: Seen[] = [];
  cleanups = 0;
  prepared = 0;

  constructor(private readonly exitCode: number) {}

  prepare(): void {
    this.prepared++;
  }

  async run(req: RunRequest): Promise<RunOutcome> {
    // A scratch rootfs has no /etc/passwd: root's home is "/", as the runc executor resolves it.
    const mounts = req.mounts.map((m) => {
      if (m.kind === "bind") return { ...m, source: existsSync(`${m.source}/data/input.txt`) ? "input snapshot" : m.source };
      if (m.kind === "secret") return { ...m, data: new TextDecoder().decode(m.data) };
      return m;
    });
    this.seen.push({ process: req.process, env: processEnv(req.process, "/"), mounts, readonlyRoot: req.readonlyRoot });
    writeFileSync(`${req.rootfs}/data/ran.txt`, "ran by the fake");
    return { exitCode: this.exitCode, tail: ["last line"] };
  }

  async cleanupOrphans(): Promise<void> {
    this.cleanups++;
  }

  expectSandboxedStep(): void {}

  async release(): Promise<void> {}
}

const mkdir = (name: string, file: string): Output =>
  output(node({ kind: "file", base: -1, actions: [
    { action: "mkdir", path: "/data", mode: 0o755, makeParents: true, owner: { user: 0, group: 0 } },
    { action: "mkfile", path: `/data/${file}`, mode: 0o644, data: name },
  ] }, [], { name }));

function execGraph(): Output {
  const extra: ExecMount[] = [
    { type: "tmpfs", dest: "/scratch", input: -1, output: -1, readonly: false, tmpfs: { size: 4096 } },
    { type: "bind", dest: "in", input: 1, output: -1, readonly: true },
    { type: "secret", dest: "/run/secrets/token", input: -1, output: -1, readonly: true, secret: { id: "token", uid: 0, gid: 0, mode: 0o400, optional: false } },
  ];
  const op: ExecOp = {
    kind: "exec",
    meta: { args: ["/bin/sh", "-c", "true"], env: ["A=1"], cwd: "/work", user: "", proxyEnv: { HTTP_PROXY: "http://proxy:3128" } },
    mounts: [{ type: "bind", dest: "/", input: 0, output: 0, readonly: false }, ...extra],
    secretEnv: [{ id: "token", name: "TOKEN", optional: false }],
    network: "none",
    security: "sandbox",
  };
  return output(node(op, [mkdir("root", "root.txt"), mkdir("input", "input.txt")], { name: "RUN true" }));
}

/** Solves the graph on a fresh native cache root with `executor`; `use` sees the result's filesystem. */
async function solveWith(executor: Executor, use: (rootfs: string) => void): Promise<void> {
  const signal = new AbortController().signal;
  const config = readConfig({ KITBUILD_ROOT: `${tempDir()}/root`, KITBUILD_SNAPSHOTTER: "native" });
  const env = { TOKEN_VAR: "s3cret" };
  await using benv = await openEnvironment({ config, env: {}, insecureRegistries: [], executor });
  await using exec = new ExecServices({ secrets: [{ id: "token", env: "TOKEN_VAR" }], ssh: [], allow: [], env });
  const session = new BuildSession(benv, "/nonexistent", hostPlatform(), signal, exec);
  const solver = definitionSolver(session, marshal(execGraph()), { maxParallelism: 2, noCache: false, progress: () => {}, signal });
  const result = await solver.solve();
  try {
    const id = snapshotIdOf(result);
    if (id === null) throw new Error("the result is scratch");
    await using view = await benv.snapshotter.mountReadonly(id);
    use(view.path);
  } finally {
    await result.release();
  }
}

describe.skipIf(skip)("exec op on a fake executor", () => {
  test("hands over the process and mounts, and commits the rootfs", async () => {
    const fake = new FakeExecutor(0);
    await solveWith(fake, (rootfs) => {
      expect(readFileSync(`${rootfs}/data/ran.txt`, "utf8")).toBe("ran by the fake");
      expect(readFileSync(`${rootfs}/data/root.txt`, "utf8")).toBe("root");
    });
    expect(fake.cleanups).toBe(1);
    expect(fake.prepared).toBe(1);
    expect(fake.seen).toHaveLength(1);
    const seen = fake.seen[0] as Seen;
    expect(seen.process).toMatchObject({ args: ["/bin/sh", "-c", "true"], cwd: "/work", user: "", hostname: undefined, network: "none", security: "sandbox" });
    expect(seen.env).toEqual(["A=1", "HTTP_PROXY=http://proxy:3128", `PATH=${DEFAULT_PATH}`, "HOME=/", "TOKEN=s3cret"]);
    expect(seen.readonlyRoot).toBe(false);
    expect(seen.mounts).toEqual([
      { kind: "tmpfs", dest: "/scratch", size: 4096, readonly: false },
      { kind: "bind", source: "input snapshot", dest: "/work/in", readonly: true },
      { kind: "secret", dest: "/run/secrets/token", data: "s3cret", uid: 0, gid: 0, mode: 0o400 },
    ]);
  });

  test("a non-zero exit code fails the step with E_RUN_FAILED", async () => {
    const error = await solveWith(new FakeExecutor(3), () => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KitError);
    expect(error).toMatchObject({
      code: "E_RUN_FAILED",
      message: 'process "/bin/sh -c true" did not complete successfully: exit code: 3',
      details: ["last line"],
    });
  });
});
