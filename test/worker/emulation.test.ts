// Deciding how a step of another platform runs (natively, through a binfmt_misc handler with the F
// flag, or through the mounted qemu binary), matching handlers as the kernel does (checked against
// the handlers Debian's qemu-user-static ships, where installed), and the command put behind the
// emulator. Pure: no container runs here (test/e2e/emulation*.test.ts run them).
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { hostPlatform } from "../../src/oci/platform.ts";
import { elfHeader, qemuName, runsNatively } from "../../src/worker/emulation/architectures.ts";
import { type BinfmtHandler, fixBinaryHandlerFor, parseHandler } from "../../src/worker/emulation/binfmt.ts";
import { lookPathInRoot, withEmulator } from "../../src/worker/emulation/emulating-executor.ts";
import { EMULATOR_MOUNT_PATH, emulationFor } from "../../src/worker/emulation/emulation.ts";
import { handlerLine } from "../../src/worker/emulation/private-binfmt.ts";
import type { RunRequest } from "../../src/worker/executor.ts";
import { KitError } from "../../src/util/errors.ts";
import { tempDir } from "../harness.ts";

const amd64 = { os: "linux", architecture: "amd64" };
const arm64 = { os: "linux", architecture: "arm64", variant: "v8" };
/** A platform the host does not run natively (arm64 on x86-64 hosts, amd64 on arm64 hosts). */
const foreign = hostPlatform().architecture === "amd64" ? arm64 : amd64;
const foreignQemu = qemuName(foreign.architecture) as string;

/** A handler as the kernel shows it in /proc/sys/fs/binfmt_misc/NAME. */
function handlerText(magic: Uint8Array, mask: Uint8Array, flags: string, interpreter = "/usr/bin/qemu-x-static"): string {
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  return `enabled\ninterpreter ${interpreter}\nflags: ${flags}\noffset 0\nmagic ${hex(magic)}\nmask ${hex(mask)}\n`;
}

/** A handler for `architecture` built from our own header (every byte significant). */
function handlerFor(architecture: string, flags: string, name = `h-${architecture}`): BinfmtHandler {
  const magic = elfHeader(architecture) as Uint8Array;
  return parseHandler(name, handlerText(magic, new Uint8Array(magic.length).fill(0xff), flags)) as BinfmtHandler;
}

/** Debian's binfmt.d line (`:name:M:offset:magic:mask:interpreter:flags`, \xNN escapes) as a handler. */
function debianHandler(line: string): BinfmtHandler {
  const [, name = "", , , magic = "", mask = "", interpreter = "", flags = ""] = line.trim().split(":");
  // \xNN escapes and literal characters, as the kernel reads them ("\x7fELF").
  const bytes = (s: string) => Uint8Array.from([...s.matchAll(/\\x([0-9a-f]{2})|(.)/gis)].map((m) => (m[1] ? Number.parseInt(m[1], 16) : (m[2] as string).charCodeAt(0))));
  return parseHandler(name, handlerText(bytes(magic), bytes(mask), flags, interpreter)) as BinfmtHandler;
}

describe("which platforms run natively", () => {
  test("the host's architecture (in any spelling), and i386 on x86-64; nothing else", () => {
    expect(runsNatively(undefined)).toBe(true);
    expect(runsNatively(hostPlatform())).toBe(true);
    expect(runsNatively({ os: "linux", architecture: "x86_64" }, amd64)).toBe(true);
    expect(runsNatively({ os: "linux", architecture: "386" }, amd64)).toBe(true);
    expect(runsNatively(arm64, amd64)).toBe(false);
    expect(runsNatively({ os: "linux", architecture: "aarch64" }, arm64)).toBe(true);
    expect(runsNatively(amd64, arm64)).toBe(false);
    expect(runsNatively({ os: "windows", architecture: "amd64" }, amd64)).toBe(false);
  });
});

describe("binfmt_misc handlers", () => {
  const debianDir = "/usr/lib/binfmt.d";
  const debianConfs = existsSync(debianDir) ? readdirSync(debianDir).filter((f) => /^qemu-.*\.conf$/.test(f)) : [];
  if (debianConfs.length === 0) console.warn("skipping the check against Debian's handlers: qemu-user-static is not installed");

  test.skipIf(debianConfs.length === 0)("each of Debian's qemu handlers matches its own architecture's header and no other", () => {
    const handlers = debianConfs.map((f) => debianHandler(readFileSync(`${debianDir}/${f}`, "utf8")));
    // Debian leaves out the host's own architectures (no qemu-i386 or qemu-x86_64 handler on x86-64).
    for (const arch of ["386", "arm64", "arm", "riscv64", "ppc64le", "s390x", "amd64", "mips64le", "loong64"]) {
      const own = `qemu-${qemuName(arch)}`;
      const matching = handlers.filter((h) => fixBinaryHandlerFor(arch, [h]) !== undefined).map((h) => h.name);
      expect(matching, arch).toEqual(handlers.some((h) => h.name === own) ? [own] : []);
    }
    expect(handlers.map((h) => h.name)).toContain("qemu-aarch64");
  });

  test.skipIf(debianConfs.length === 0)("kitbuild's own register line takes the installed qemu's magic and mask, and without them matches ELF files of the architecture as Debian's arm64 handler does", () => {
    for (const f of debianConfs) {
      const debian = readFileSync(`${debianDir}/${f}`, "utf8").trim().split(":");
      const arch = ["arm64", "arm", "riscv64", "ppc64le", "s390x", "mips64le", "loong64", "386"].find((a) => `qemu-${qemuName(a)}` === debian[1]);
      if (!arch) continue;
      const ours = (handlerLine("x", arch, "/usr/bin/qemu") as string).split(":");
      // Fields: "", name, type, offset, magic, mask, interpreter, flags.
      expect([ours[2], ours[4], ours[5], ours[7]], f).toEqual([debian[2], debian[4], debian[5], "F"]);
    }
    const generic = (handlerLine("x", "arm64", "/q", tempDir()) as string).split(":");
    const debianArm64 = readFileSync(`${debianDir}/qemu-aarch64.conf`, "utf8").trim().split(":");
    expect([generic[4], generic[5]]).toEqual([debianArm64[4]?.toLowerCase(), debianArm64[5]?.toLowerCase()]);
    expect((handlerLine("x", "arm64", "/usr/libexec/qemu-binfmt/aarch64-binfmt-P") as string).endsWith(":FP")).toBe(true);
  });

  test("only an enabled magic handler with the F flag counts", () => {
    expect(fixBinaryHandlerFor("arm64", [handlerFor("arm64", "OC")])).toBeUndefined();
    expect(fixBinaryHandlerFor("arm64", [handlerFor("arm64", "POCF")])?.name).toBe("h-arm64");
    expect(fixBinaryHandlerFor("arm64", [handlerFor("arm", "F")])).toBeUndefined();
    const disabled = handlerText(elfHeader("arm64") as Uint8Array, new Uint8Array(20).fill(0xff), "F").replace("enabled", "disabled");
    expect(parseHandler("off", disabled)).toBeUndefined();
    expect(parseHandler("ext", "enabled\ninterpreter /usr/bin/wine\nflags: \nextension .exe\n")).toBeUndefined();
  });
});

describe("how a step of a platform runs", () => {
  const noEmulator = () => undefined;
  const withQemu = (binary: string) => `/opt/qemu/${binary}`;

  test("natively, through the kernel's handler, or through the mounted emulator (always when rootless)", () => {
    expect(emulationFor(hostPlatform(), { rootless: false, findEmulator: noEmulator, handlers: () => [] })).toEqual({ kind: "native" });
    const handlers = () => [handlerFor(foreign.architecture, "F", "kitbuild-test")];
    expect(emulationFor(foreign, { rootless: false, findEmulator: withQemu, handlers })).toEqual({ kind: "binfmt", handler: "kitbuild-test" });
    expect(emulationFor(foreign, { rootless: true, findEmulator: withQemu, handlers })).toEqual({ kind: "mounted", emulator: `/opt/qemu/qemu-${foreignQemu}-static` });
    expect(emulationFor(foreign, { rootless: false, findEmulator: withQemu, handlers: () => [] })).toEqual({ kind: "mounted", emulator: `/opt/qemu/qemu-${foreignQemu}-static` });
  });

  test("in kitbuild's own namespaces (rootless): a private handler when it can register one, else the mounted emulator", () => {
    const registered: string[] = [];
    const register = (arch: string, emulator: string) => (registered.push(`${arch} ${emulator}`), "kitbuild-private");
    expect(emulationFor(foreign, { rootless: true, ownNamespaces: true, findEmulator: withQemu, handlers: () => [], registerPrivate: register })).toEqual({ kind: "binfmt", handler: "kitbuild-private" });
    expect(registered).toHaveLength(1);
    expect(registered[0]).toStartWith(`${foreign.architecture} /`);
    expect(emulationFor(foreign, { rootless: true, ownNamespaces: true, findEmulator: withQemu, handlers: () => [], registerPrivate: () => undefined })).toEqual({ kind: "mounted", emulator: `/opt/qemu/qemu-${foreignQemu}-static` });
    // A rootless container's namespaces are not kitbuild's own: nothing is registered there.
    expect(emulationFor(foreign, { rootless: true, findEmulator: withQemu, handlers: () => [], registerPrivate: register })).toEqual({ kind: "mounted", emulator: `/opt/qemu/qemu-${foreignQemu}-static` });
    expect(registered).toHaveLength(1);
  });

  test("without an emulator: E_RUN_NO_EMULATOR naming the platform, the binary and the package", () => {
    let error: unknown;
    try {
      emulationFor(foreign, { rootless: true, findEmulator: noEmulator, handlers: () => [] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KitError);
    const e = error as KitError;
    expect(e.code).toBe("E_RUN_NO_EMULATOR");
    expect(e.exitCode).toBe(1);
    expect(e.message).toContain(`${foreign.os}/${foreign.architecture}`);
    expect(e.message).toContain(`qemu-${foreignQemu}-static`);
    expect(e.hint).toContain("apt-get install qemu-user-static");
    expect(() => emulationFor({ os: "linux", architecture: "sparc64" }, { rootless: false, findEmulator: withQemu, handlers: () => [] })).toThrow(/knows no emulator for architecture "sparc64"/);
  });
});

describe("the command behind the emulator", () => {
  function request(rootfs: string, args: string[], env: string[] = []): RunRequest {
    return {
      rootfs, readonlyRoot: false, mounts: [], signal: new AbortController().signal, progress: {} as RunRequest["progress"], moreSandboxedSteps: false,
      process: { args, env, sessionEnv: [], cwd: "/", user: "", hostname: undefined, network: "none", hostNetworkAllowed: false, extraHosts: [], ulimits: [], security: "sandbox" },
    };
  }

  /** A root with /bin a symlink to usr/bin (as merged-/usr distributions), tool executable, data not. */
  function rootfs(): string {
    const root = tempDir("kitbuild-emu-root-");
    mkdirSync(`${root}/usr/bin`, { recursive: true });
    mkdirSync(`${root}/opt/bin`, { recursive: true });
    symlinkSync("/usr/bin", `${root}/bin`);
    writeFileSync(`${root}/usr/bin/tool`, "");
    chmodSync(`${root}/usr/bin/tool`, 0o755);
    writeFileSync(`${root}/opt/bin/data`, "");
    return root;
  }

  test("the emulator mounted read-only and run with -0 argv0; a path is kept, a bare name resolved in the root's PATH", () => {
    const root = rootfs();
    const shell = withEmulator(request(root, ["/bin/sh", "-c", "uname -m"]), "/usr/bin/qemu-aarch64-static");
    expect(shell.process.args).toEqual([EMULATOR_MOUNT_PATH, "-0", "/bin/sh", "/bin/sh", "-c", "uname -m"]);
    expect(shell.mounts).toEqual([{ kind: "bind", source: "/usr/bin/qemu-aarch64-static", dest: EMULATOR_MOUNT_PATH, readonly: true }]);
    // The default PATH: /usr/bin comes before /bin.
    expect(withEmulator(request(root, ["tool", "x"]), "/q").process.args).toEqual([EMULATOR_MOUNT_PATH, "-0", "tool", "/usr/bin/tool", "x"]);
    expect(withEmulator(request(root, ["tool"], ["PATH=/opt/bin:/usr/bin"]), "/q").process.args).toEqual([EMULATOR_MOUNT_PATH, "-0", "tool", "/usr/bin/tool"]);
    // Not found (or not executable): left as it is, for qemu to report.
    expect(withEmulator(request(root, ["data"], ["PATH=/opt/bin"]), "/q").process.args).toEqual([EMULATOR_MOUNT_PATH, "-0", "data", "data"]);
  });

  test("PATH lookups stay inside the root and skip relative directories", () => {
    const root = rootfs();
    symlinkSync("/../../../usr/bin", `${root}/escape`);
    expect(lookPathInRoot(root, "tool", "relative:/escape")).toBe("/escape/tool");
    expect(lookPathInRoot(root, "sh", "/escape:/bin")).toBeUndefined();
  });
});
