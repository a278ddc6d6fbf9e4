// How a step of another platform runs, decided as BuildKit decides it: natively when the host's
// CPU runs that architecture; through the kernel when binfmt_misc has a fix-binary handler for it
// (and kitbuild is not rootless); else through the matching qemu-<arch>-static binary, bind-mounted
// read-only into the container and put in front of the command. Without an emulator the step fails
// with what to install. What the host offers is read once per process.
import { statSync } from "node:fs";
import { formatPlatform, hostPlatform, normalizePlatform } from "../../oci/platform.ts";
import type { Platform } from "../../oci/types.ts";
import { KitError } from "../../util/errors.ts";
import { qemuName, runsNatively } from "./architectures.ts";
import { type BinfmtHandler, fixBinaryHandlerFor, readBinfmtHandlers } from "./binfmt.ts";
import { privateHandlerFor } from "./private-binfmt.ts";

/** Where the emulator appears in the container (BuildKit's path: in /dev, so no layer ever holds it). */
export const EMULATOR_MOUNT_PATH = "/dev/.buildkit_qemu_emulator";

export type Emulation =
  | { kind: "native" }
  /** The kernel runs the step's binaries through this binfmt_misc handler. */
  | { kind: "binfmt"; handler: string }
  /** The step runs through `emulator` (a host path), mounted at EMULATOR_MOUNT_PATH. */
  | { kind: "mounted"; emulator: string };

export type EmulationOptions = {
  /** In a user namespace: never the host's handlers. */
  rootless: boolean;
  /**
   * In user and mount namespaces kitbuild made (a rootless build): handlers are registered in a
   * binfmt_misc of its own (private-binfmt.ts) where the kernel allows it, else the emulator is mounted.
   */
  ownNamespaces?: boolean;
  /** Registers a private handler (default: privateHandlerFor); undefined when it cannot. */
  registerPrivate?: (architecture: string, emulator: string) => string | undefined;
  /** Where qemu-<arch>-static is looked for (default: PATH, then /usr/bin). */
  findEmulator?: (binary: string) => string | undefined;
  /** The host's binfmt_misc handlers (default: read once from /proc). */
  handlers?: () => readonly BinfmtHandler[];
};

/** How to run a step of `platform`; throws E_RUN_NO_EMULATOR when it cannot run here. */
export function emulationFor(platform: Platform | undefined, opts: EmulationOptions): Emulation {
  if (!platform || runsNatively(platform)) return { kind: "native" };
  const want = normalizePlatform(platform);
  const name = qemuName(want.architecture);
  if (!name) {
    throw new KitError("E_RUN_NO_EMULATOR", `cannot run steps for ${formatPlatform(want)} on ${formatPlatform(hostPlatform())}: kitbuild knows no emulator for architecture "${want.architecture}"`, {
      hint: "build for linux/amd64, linux/386, linux/arm64, linux/arm, linux/riscv64, linux/ppc64le, linux/s390x, linux/mips64(le) or linux/loong64",
    });
  }
  if (!opts.rootless) {
    const handler = fixBinaryHandlerFor(want.architecture, (opts.handlers ?? hostHandlers)());
    if (handler) return { kind: "binfmt", handler: handler.name };
  }
  const binary = `qemu-${name}-static`;
  const emulator = (opts.findEmulator ?? findOnHost)(binary);
  if (emulator && opts.ownNamespaces) {
    // Debian's name for qemu that keeps argv[0] (the P flag), where it exists.
    const preserving = `/usr/libexec/qemu-binfmt/${name}-binfmt-P`;
    const handler = (opts.registerPrivate ?? privateHandlerFor)(want.architecture, isExecutableFile(preserving) ? preserving : emulator);
    if (handler) return { kind: "binfmt", handler };
  }
  if (emulator) return { kind: "mounted", emulator };
  throw new KitError("E_RUN_NO_EMULATOR", `cannot run steps for ${formatPlatform(want)} on ${formatPlatform(hostPlatform())}: no emulator found (${binary})`, {
    hint: `install QEMU user emulation (Debian and Ubuntu: apt-get install qemu-user-static), which provides ${binary}${opts.rootless ? "" : ", or register a binfmt_misc handler for it with the F flag"}`,
  });
}

let handlersRead: readonly BinfmtHandler[] | undefined;
const hostHandlers = () => (handlersRead ??= readBinfmtHandlers());

const emulatorPaths = new Map<string, string | undefined>();

/** qemu's static binary on PATH or in /usr/bin (Debian's place), looked up once per process. */
function findOnHost(binary: string): string | undefined {
  if (!emulatorPaths.has(binary)) {
    const found = [Bun.which(binary), `/usr/bin/${binary}`].find((p) => p !== null && isExecutableFile(p));
    emulatorPaths.set(binary, found ?? undefined);
  }
  return emulatorPaths.get(binary);
}

function isExecutableFile(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}
