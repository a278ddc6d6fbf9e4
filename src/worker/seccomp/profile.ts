// The OCI `linux.seccomp` section of one step from Docker's default profile (default-profile.ts):
// only the rules whose conditions hold for this step (its capability set, its platform's
// architecture, the running kernel), as moby's setupSeccomp selects them. runc loads the filter
// with libseccomp; a syscall no rule allows fails with EPERM.
import { readFileSync } from "node:fs";
import { ARCH_MAP, type ArgOp, DEFAULT_ACTION, RULES, type SeccompRule } from "./default-profile.ts";

export type OciSyscall = { names: string[]; action: string; errnoRet?: number; args?: Array<{ index: number; value: number; valueTwo: number; op: ArgOp }> };

export type OciSeccomp = { defaultAction: string; defaultErrnoRet: number; architectures: string[]; syscalls: OciSyscall[] };

/** An OCI platform architecture → libseccomp's name for it (the rules' arches) and its seccomp architecture. */
const ARCHES: Readonly<Record<string, { native: string; scmp: string }>> = {
  amd64: { native: "amd64", scmp: "SCMP_ARCH_X86_64" },
  "386": { native: "x86", scmp: "SCMP_ARCH_X86" },
  arm64: { native: "arm64", scmp: "SCMP_ARCH_AARCH64" },
  arm: { native: "arm", scmp: "SCMP_ARCH_ARM" },
  ppc64le: { native: "ppc64le", scmp: "SCMP_ARCH_PPC64LE" },
  s390x: { native: "s390x", scmp: "SCMP_ARCH_S390X" },
  riscv64: { native: "riscv64", scmp: "SCMP_ARCH_RISCV64" },
  loong64: { native: "loong64", scmp: "SCMP_ARCH_LOONGARCH64" },
  mips64: { native: "mips64", scmp: "SCMP_ARCH_MIPS64" },
  mips64le: { native: "mipsel64", scmp: "SCMP_ARCH_MIPSEL64" },
};

/** Node's process.arch → the OCI platform architecture. */
const NODE_TO_OCI: Readonly<Record<string, string>> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64", loong64: "loong64", mips64el: "mips64le" };

/** The OCI architecture of the machine kitbuild runs on. */
export function hostArch(): string {
  return NODE_TO_OCI[process.arch] ?? process.arch;
}

export type SeccompInput = {
  /** The step's bounding capability set (CAP_* names). */
  caps: readonly string[];
  /** The step platform's OCI architecture (amd64, arm64, …). */
  arch: string;
  /** The running kernel's release ("6.1.0-18-amd64"). */
  kernel: string;
};

/** Docker's default profile for a step with these capabilities on this architecture and kernel. */
export function defaultSeccomp(input: SeccompInput): OciSeccomp {
  const arch = ARCHES[input.arch];
  const native = arch?.native ?? input.arch;
  const kernel = kernelVersion(input.kernel);
  const holds = (cap: string) => input.caps.includes(cap);
  // As moby: an architecture without an entry gets no list (libseccomp then uses the native one).
  const subArches = arch ? ARCH_MAP[arch.scmp] : undefined;
  const architectures = arch && subArches ? [arch.scmp, ...subArches] : [];
  const applies = (r: SeccompRule): boolean => {
    const ex = r.excludes;
    if (ex?.arches?.includes(native) || ex?.caps?.some(holds) || (ex?.minKernel && atLeast(kernel, ex.minKernel))) return false;
    const inc = r.includes;
    if (inc?.arches && !inc.arches.includes(native)) return false;
    if (inc?.caps && !inc.caps.every(holds)) return false;
    if (inc?.minKernel && !atLeast(kernel, inc.minKernel)) return false;
    return true;
  };
  return {
    defaultAction: DEFAULT_ACTION.action,
    defaultErrnoRet: DEFAULT_ACTION.errnoRet,
    architectures,
    syscalls: RULES.filter(applies).map(ociSyscall),
  };
}

function ociSyscall(r: SeccompRule): OciSyscall {
  return {
    names: [...r.names],
    action: r.action ?? "SCMP_ACT_ALLOW",
    ...(r.errnoRet === undefined ? {} : { errnoRet: r.errnoRet }),
    ...(r.args ? { args: r.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op })) } : {}),
  };
}

/** "major.minor" of a kernel release, as moby compares them (the rest is ignored). */
function kernelVersion(release: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

function atLeast(kernel: [number, number], min: string): boolean {
  const [k, m] = kernelVersion(min);
  return kernel[0] > k || (kernel[0] === k && kernel[1] >= m);
}

/** The running kernel's release. */
export function kernelRelease(): string {
  try {
    return readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  } catch {
    return "0.0";
  }
}
