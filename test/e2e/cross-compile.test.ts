// The cross-compilation pattern on the compiled binary, built for two platforms at once: a builder
// stage `FROM --platform=$BUILDPLATFORM` that runs once per target platform natively (its RUN step
// named with the build platform and "->ARCH", as BuildKit names it; never under emulation), and a
// target stage FROM the multi-platform busybox index that copies what the builder made. Each
// platform's output has its own busybox and the builder's file naming its TARGETARCH.
// Needs root and runc, and the multi-platform busybox fixture (Debian's archive or its cache).
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { formatPlatform, hostPlatform } from "../../src/oci/platform.ts";
import { multiPlatformBusybox } from "../fixtures/foreign-images.ts";
import { expectExit, HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `cross-compilation pattern: ${NEEDS_ROOT_AND_RUNC}`);
const host = hostPlatform();
const hostName = formatPlatform(host);
/** The other target: a foreign architecture of the fixture's index. */
const foreign = host.architecture === "arm64" ? { platform: "linux/arm/v7", arch: "arm", dir: "linux_arm_v7", elf: 0x28 } : { platform: "linux/arm64", arch: "arm64", dir: "linux_arm64", elf: 0xb7 };
const native = { platform: hostName, arch: host.architecture, dir: hostName.replaceAll("/", "_"), elf: host.architecture === "arm64" ? 0xb7 : 0x3e };

let busybox = "";
let unavailable = "";

beforeAll(async () => {
  if (skip) return;
  const multi = await multiPlatformBusybox(await testRegistry());
  if (multi.kind === "ready") busybox = multi.ref;
  else unavailable = multi.reason;
}, 600_000);

/** The ELF machine of a binary (e_machine, little-endian at offset 18). */
function elfMachine(path: string): number {
  const b = readFileSync(path);
  expect(b.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
  return b.readUInt16LE(18);
}

describe.skipIf(skip)("the cross-compilation pattern for two platforms (compiled binary)", () => {
  test("the builder runs natively once per target; each image gets its own base and the builder's file", async () => {
    if (skipBecause(busybox === "", `multi-platform busybox fixture: ${unavailable}`)) return;
    const ctx = tempDir("kitbuild-ctx-");
    const run = "RUN echo $TARGETARCH > /out && uname -m > /built-on";
    writeFileSync(`${ctx}/Dockerfile`, [
      `FROM --platform=$BUILDPLATFORM ${busybox} AS builder`,
      "ARG TARGETARCH",
      run,
      `FROM ${busybox}`,
      "COPY --from=builder /out /built-on /",
      "",
    ].join("\n"));
    const out = tempDir("kitbuild-out-");
    const res = await runKitbuild(["build", "--progress=plain", "--platform", `${native.platform},${foreign.platform}`, "-o", `type=local,dest=${out}`, ctx], {
      env: { KITBUILD_ROOT: tempDir("kitbuild-root-") },
      timeoutMs: 600_000,
    });
    expectExit(res, 0);

    // The builder's RUN: one step per target platform (its variables expanded in the name), each
    // named with the build platform (BuildKit's "[linux/amd64->arm64 builder 2/2]"), each run (DONE, not CACHED).
    const steps = [...res.stderr.matchAll(/^#(\d+) \[([^\]]+)\] RUN echo (\S+) > \/out && uname -m > \/built-on$/gm)];
    const named = [...new Map(steps.map((m) => [m[1], `${m[2]}: ${m[3]}`])).values()];
    expect(named.sort()).toEqual([`${hostName} builder 2/2: ${native.arch}`, `${hostName}->${foreign.arch} builder 2/2: ${foreign.arch}`].sort());
    for (const m of steps) expect(res.stderr).toMatch(new RegExp(`^#${m[1]} DONE`, "m"));
    // The base image was resolved for each platform.
    expect(res.stderr).toContain(`[${hostName} internal] load metadata for ${busybox}`);
    expect(res.stderr).toContain(`[${foreign.platform} internal] load metadata for ${busybox}`);

    for (const t of [native, foreign]) {
      expect(readFileSync(`${out}/${t.dir}/out`, "utf8")).toBe(`${t.arch}\n`);
      // Built on the build platform, natively: uname -m is the host's machine for both targets.
      expect(readFileSync(`${out}/${t.dir}/built-on`, "utf8")).toBe(readFileSync(`${out}/${native.dir}/built-on`, "utf8"));
      expect(elfMachine(`${out}/${t.dir}/bin/busybox`)).toBe(t.elf);
    }
    expect(readFileSync(`${out}/${native.dir}/built-on`, "utf8").trim()).toBe(host.architecture === "amd64" ? "x86_64" : "aarch64");
  }, 600_000);
});
