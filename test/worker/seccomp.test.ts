// The OCI seccomp section generated from Docker's default profile: which rules a step gets by its
// capabilities, its architecture and the kernel (moby's selection), checked against the rules' own
// conditions rather than a copy of the expected output.
import { describe, expect, test } from "bun:test";
import { RULES } from "../../src/worker/seccomp/default-profile.ts";
import { defaultSeccomp, type OciSeccomp } from "../../src/worker/seccomp/profile.ts";
import { DEFAULT_CAPS } from "../../src/worker/runc/security.ts";

const allowed = (p: OciSeccomp, name: string) => p.syscalls.filter((s) => s.action === "SCMP_ACT_ALLOW" && s.names.includes(name));

describe("Docker's default seccomp profile for a step", () => {
  const sandbox = defaultSeccomp({ caps: DEFAULT_CAPS, arch: "amd64", kernel: "6.1.0-18-amd64" });

  test("denies with EPERM by default and covers the architecture with its 32-bit ABIs", () => {
    expect(sandbox.defaultAction).toBe("SCMP_ACT_ERRNO");
    expect(sandbox.defaultErrnoRet).toBe(1);
    expect(sandbox.architectures).toEqual(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
    expect(defaultSeccomp({ caps: DEFAULT_CAPS, arch: "arm64", kernel: "6.1" }).architectures).toEqual(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
  });

  test("the capability conditions: CAP_SYS_ADMIN's syscalls only with it, clone limited and clone3 ENOSYS without it", () => {
    expect(allowed(sandbox, "read")).toHaveLength(1);
    expect(allowed(sandbox, "unshare")).toEqual([]);
    expect(allowed(sandbox, "mount")).toEqual([]);
    // CAP_SYS_CHROOT is in Docker's default set: chroot is allowed.
    expect(allowed(sandbox, "chroot")).toHaveLength(1);
    const clone = allowed(sandbox, "clone");
    expect(clone).toHaveLength(1);
    expect(clone[0]?.args?.[0]).toMatchObject({ index: 0, op: "SCMP_CMP_MASKED_EQ", valueTwo: 0 });
    expect(sandbox.syscalls.find((s) => s.names.includes("clone3"))).toEqual({ names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 });
    const admin = defaultSeccomp({ caps: [...DEFAULT_CAPS, "CAP_SYS_ADMIN"], arch: "amd64", kernel: "6.1" });
    expect(allowed(admin, "unshare")).toHaveLength(1);
    expect(allowed(admin, "clone").every((s) => s.args === undefined)).toBe(true);
    expect(admin.syscalls.some((s) => s.action === "SCMP_ACT_ERRNO")).toBe(false);
  });

  test("the architecture conditions: arch_prctl on amd64, the s390 clone rule only there", () => {
    expect(allowed(sandbox, "arch_prctl")).toHaveLength(1);
    const arm = defaultSeccomp({ caps: DEFAULT_CAPS, arch: "arm64", kernel: "6.1" });
    expect(allowed(arm, "arch_prctl")).toEqual([]);
    expect(allowed(arm, "arm_fadvise64_64")).toHaveLength(1);
    const s390 = defaultSeccomp({ caps: DEFAULT_CAPS, arch: "s390x", kernel: "6.1" });
    expect(allowed(s390, "clone").map((s) => s.args?.[0]?.index)).toEqual([1]);
  });

  test("the kernel condition: ptrace from 4.8 on", () => {
    const minimum = RULES.find((r) => r.names.includes("ptrace"))?.includes?.minKernel;
    expect(minimum).toBe("4.8");
    expect(allowed(defaultSeccomp({ caps: DEFAULT_CAPS, arch: "amd64", kernel: "4.8.0" }), "ptrace")).toHaveLength(1);
    expect(allowed(defaultSeccomp({ caps: DEFAULT_CAPS, arch: "amd64", kernel: "4.4.0-210-generic" }), "ptrace")).toEqual([]);
  });

  test("every rule the step gets is one whose conditions hold", () => {
    const applicable = RULES.filter((r) => !r.includes?.caps?.some((c) => !DEFAULT_CAPS.includes(c)) && !r.excludes?.caps?.some((c) => DEFAULT_CAPS.includes(c)) && (!r.includes?.arches || r.includes.arches.includes("amd64")));
    expect(sandbox.syscalls.length).toBe(applicable.length);
  });
});
