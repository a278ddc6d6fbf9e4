// The executor for steps of any platform: it hands each step to the executor it wraps (runc), and
// for a platform the host cannot run (see emulation.ts) mounts the QEMU emulator into the container
// read-only and puts it in front of the command. qemu does not search PATH, so a bare command name
// is resolved in the step's root filesystem first, and `-0` keeps the command's own argv[0].
// Debian's qemu emulates only the process it starts, so a program the step executes fails with
// ENOEXEC; when the step's output shows that, a warning says why and what to do.
import { statSync } from "node:fs";
import { basename } from "node:path";
import { resolveInRoot } from "../../fs/fs-safe.ts";
import { DEFAULT_PATH, type Executor, type RunOutcome, type RunRequest } from "../executor.ts";
import { EMULATOR_MOUNT_PATH, type EmulationOptions, emulationFor } from "./emulation.ts";

export class EmulatingExecutor implements Executor {
  constructor(
    private readonly inner: Executor,
    private readonly opts: EmulationOptions,
  ) {}

  prepare(): void {
    this.inner.prepare();
  }

  async run(req: RunRequest): Promise<RunOutcome> {
    const emulation = emulationFor(req.process.platform, this.opts);
    if (emulation.kind !== "mounted") return this.inner.run(req);
    const outcome = await this.inner.run(withEmulator(req, emulation.emulator));
    if (outcome.tail.some((line) => line.includes("Exec format error"))) req.progress.warn(childNotEmulatedWarning(basename(emulation.emulator), this.opts.rootless));
    return outcome;
  }

  cleanupOrphans(): Promise<void> {
    return this.inner.cleanupOrphans();
  }

  expectSandboxedStep(): void {
    this.inner.expectSandboxedStep();
  }

  release(): Promise<void> {
    return this.inner.release();
  }
}

export function childNotEmulatedWarning(emulator: string, rootless: boolean): string {
  const fix = rootless
    ? "on Linux 6.7 and later kitbuild registers its own binfmt_misc handler instead; here, build as root on a host with binfmt_misc handlers for it (F flag)"
    : "register binfmt_misc handlers with the F flag so that the kernel emulates every program: as root, `systemctl restart systemd-binfmt` where systemd runs, else `for f in /usr/lib/binfmt.d/qemu-*.conf; do cat $f > /proc/sys/fs/binfmt_misc/register; done` (mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc first if it is empty)";
  return `a program this step started is of another architecture and was not emulated (Exec format error): ${emulator}, mounted into the container, emulates only the step's first process; ${fix}`;
}

/** The request with `emulator` (a host path) mounted at EMULATOR_MOUNT_PATH and running the command. */
export function withEmulator(req: RunRequest, emulator: string): RunRequest {
  const [argv0 = "", ...rest] = req.process.args;
  const program = argv0.includes("/") ? argv0 : (lookPathInRoot(req.rootfs, argv0, pathOf(req.process.env)) ?? argv0);
  return {
    ...req,
    process: { ...req.process, args: [EMULATOR_MOUNT_PATH, "-0", argv0, program, ...rest] },
    mounts: [...req.mounts, { kind: "bind", source: emulator, dest: EMULATOR_MOUNT_PATH, readonly: true }],
  };
}

/** The step's PATH (the executor's default when it sets none). */
function pathOf(env: readonly string[]): string {
  const last = env.find((e) => e.startsWith("PATH="));
  return last === undefined ? DEFAULT_PATH : last.slice("PATH=".length);
}

/** `name` found in PATH's absolute directories inside `rootfs`, as runc would find it (an executable file). */
export function lookPathInRoot(rootfs: string, name: string, path: string): string | undefined {
  if (name === "") return undefined;
  for (const dir of path.split(":")) {
    if (!dir.startsWith("/")) continue;
    const candidate = `${dir.replace(/\/+$/, "")}/${name}`;
    try {
      const st = statSync(resolveInRoot(rootfs, candidate, true));
      if (st.isFile() && (st.mode & 0o111) !== 0) return candidate;
    } catch {
      // not there: the next directory
    }
  }
  return undefined;
}
