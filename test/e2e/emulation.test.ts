// RUN steps of foreign platforms (compiled binary, root): FROM --platform picks the image of the
// multi-platform busybox index (test/fixtures/foreign-images.ts) and `uname -m` in a RUN step
// prints that platform's machine. Both ways QEMU runs: with no binfmt_misc handler for the
// architecture (the host's, if any, disabled for the test), qemu-<arch>-static is mounted into the
// container and runs the command; with a handler registered for the test (F flag, a copy of qemu as
// its interpreter) the kernel runs it, which the step sees as its pid 1's real command line. And the
// error when no emulator exists. Needs root, runc and qemu-user-static.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { formatPlatform, hostPlatform, normalizePlatform } from "../../src/oci/platform.ts";
import { qemuName } from "../../src/worker/emulation/architectures.ts";
import { registerHandler, withoutHostHandlers } from "../fixtures/binfmt.ts";
import { type ImagePlatform, multiPlatformBusybox } from "../fixtures/foreign-images.ts";
import { BINARY, expectExit, HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, type RunResult, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

const qemuFor = (architecture: string) => `/usr/bin/qemu-${qemuName(architecture)}-static`;
const skip =
  skipBecause(!IS_ROOT || !HAS_RUNC, `emulation e2e tests: ${NEEDS_ROOT_AND_RUNC}`) ||
  skipBecause(!Bun.which(qemuFor("arm64")), "emulation e2e tests: needs qemu-user-static (scripts/setup.sh installs it)");

let ref = "";
let foreign: ImagePlatform[] = [];
beforeAll(async () => {
  if (skip) return;
  const multi = await multiPlatformBusybox(await testRegistry());
  if (multi.kind !== "ready") throw new Error(`the multi-platform busybox image is unavailable: ${multi.reason}`);
  ref = multi.ref;
  foreign = multi.platforms.filter((p) => p.platform !== multi.platforms[0]?.platform);
}, 300_000);

const architectureOf = (platform: string) => platform.split("/")[1] as string;

/** A context whose Dockerfile is FROM --platform=`platform` the multi-platform image, then `run`. */
function context(platform: string, run: string[]): string {
  const ctx = tempDir("kitbuild-emu-ctx-");
  writeFileSync(`${ctx}/Dockerfile`, [`FROM --platform=${platform} ${ref}`, ...run.map((r) => `RUN ${r}`), ""].join("\n"));
  return ctx;
}

function build(ctx: string, out: string, root: string): Promise<RunResult> {
  return runKitbuild(["build", "--progress=plain", "-o", `type=local,dest=${out}`, ctx], { env: { KITBUILD_ROOT: root }, timeoutMs: 300_000 });
}

/** The compiled binary in a mount namespace of its own where `hidden` is /dev/null (not an executable). */
function buildWithout(hidden: string, args: string[], env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", `mount --bind /dev/null ${hidden} && exec "$0" "$@"`, BINARY, ...args], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", NO_COLOR: "1", TZ: "UTC", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe.skipIf(skip)("RUN for a foreign platform (compiled binary)", () => {
  test("without a binfmt_misc handler: each foreign platform's RUN runs through the mounted qemu", async () => {
    expect(foreign.length).toBeGreaterThanOrEqual(2);
    for (const { platform, uname } of foreign) {
      using _ = withoutHostHandlers(architectureOf(platform));
      const work = tempDir();
      const ctx = context(platform, ["uname -m > /m && if [ -e /dev/.buildkit_qemu_emulator ]; then echo mounted; else echo absent; fi > /emulator"]);
      const res = await build(ctx, `${work}/out`, `${work}/root`);
      expectExit(res, 0);
      expect(readFileSync(`${work}/out/m`, "utf8")).toBe(`${uname}\n`);
      expect(readFileSync(`${work}/out/emulator`, "utf8")).toBe("mounted\n");
      // The emulator lives in the container's /dev: the result never holds it.
      expect(() => readFileSync(`${work}/out/dev/.buildkit_qemu_emulator`)).toThrow();
      // The result is the foreign image's: its busybox is not the host's.
      expect(readFileSync(`${work}/out/bin/busybox`).equals(readFileSync("/bin/busybox"))).toBe(false);
    }
  }, 600_000);

  test("under the mounted qemu, a program the step starts is not emulated: a warning says why and what to do", async () => {
    using _ = withoutHostHandlers("arm64");
    const work = tempDir();
    // `cat` is exec'd by the shell (unlike uname, which busybox's shell runs in-process); head's
    // status is the pipeline's, so the step succeeds and only the warning tells.
    const ctx = context("linux/arm64", ["cat /etc/passwd | head -1"]);
    const res = await build(ctx, `${work}/out`, `${work}/root`);
    expectExit(res, 0);
    expect(res.stderr).toContain("Exec format error");
    expect(res.stderr).toContain("qemu-aarch64-static, mounted into the container, emulates only the step's first process; register binfmt_misc handlers with the F flag");
  }, 300_000);

  test("with a binfmt_misc handler (F flag) registered: the kernel runs the step through it, nothing is mounted", async () => {
    const arm64 = foreign.find((p) => architectureOf(p.platform) === "arm64") as ImagePlatform;
    const work = tempDir();
    // cat is a program of its own: under binfmt the shell's children are emulated too, and /proc/1
    // is not cat's own, so qemu shows it as it is: the handler's interpreter, the shell's path, then
    // (the P flag) the shell's own argv.
    const ctx = context("linux/arm64", [
      "uname -m > /m && cat /proc/1/cmdline | tr '\\0' '\\n' > /cmdline && if [ -e /dev/.buildkit_qemu_emulator ]; then echo mounted; else echo absent; fi > /emulator",
    ]);
    using handler = registerHandler("arm64", qemuFor("arm64"));
    const res = await build(ctx, `${work}/out`, `${work}/root`);
    expectExit(res, 0);
    expect(readFileSync(`${work}/out/m`, "utf8")).toBe(`${arm64.uname}\n`);
    expect(readFileSync(`${work}/out/emulator`, "utf8")).toBe("absent\n");
    const cmdline = readFileSync(`${work}/out/cmdline`, "utf8").split("\n");
    expect(cmdline.slice(0, 4)).toEqual([handler.interpreter, "/bin/sh", "/bin/sh", "-c"]);
  }, 300_000);

  test("without an emulator: the step fails naming the platform and the package to install", async () => {
    using _ = withoutHostHandlers("arm64");
    const work = tempDir();
    const ctx = context("linux/arm64", ["uname -m > /m"]);
    const res = await buildWithout(qemuFor("arm64"), ["build", "--progress=plain", "-o", `type=local,dest=${work}/out`, ctx], { KITBUILD_ROOT: `${work}/root` });
    expectExit(res, 1);
    // Both platforms as containerd normalizes them (linux/arm64/v8 is linux/arm64).
    const [want, host] = [formatPlatform(normalizePlatform({ os: "linux", architecture: "arm64", variant: "v8" })), formatPlatform(hostPlatform())];
    expect(res.stderr).toContain(`ERROR: failed to solve: cannot run steps for ${want} on ${host}: no emulator found (qemu-aarch64-static)`);
    expect(res.stderr).toContain("hint: install QEMU user emulation (Debian and Ubuntu: apt-get install qemu-user-static)");
    expect(res.stderr).not.toContain("    at ");
  }, 300_000);
});
