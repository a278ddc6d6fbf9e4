// Which platforms the host runs natively and, for the others, what QEMU and the kernel call their
// architecture: qemu's binary name (qemu-<name>-static) and the ELF header its binaries start with
// (class, byte order, machine), against which binfmt_misc handlers are matched.
import { hostPlatform, normalizePlatform } from "../../oci/platform.ts";
import type { Platform } from "../../oci/types.ts";

/** An architecture's ELF identity: 64-bit or not, big-endian or not, e_machine. */
export type ElfIdentity = { bits64: boolean; bigEndian: boolean; machine: number };

type Arch = { qemu: string; elf: ElfIdentity };

/** By OCI architecture name, as BuildKit's qemu map (arm64 is aarch64, 386 is i386, …). */
const ARCHES: Record<string, Arch> = {
  amd64: { qemu: "x86_64", elf: { bits64: true, bigEndian: false, machine: 0x3e } },
  "386": { qemu: "i386", elf: { bits64: false, bigEndian: false, machine: 0x03 } },
  arm64: { qemu: "aarch64", elf: { bits64: true, bigEndian: false, machine: 0xb7 } },
  arm: { qemu: "arm", elf: { bits64: false, bigEndian: false, machine: 0x28 } },
  riscv64: { qemu: "riscv64", elf: { bits64: true, bigEndian: false, machine: 0xf3 } },
  ppc64le: { qemu: "ppc64le", elf: { bits64: true, bigEndian: false, machine: 0x15 } },
  s390x: { qemu: "s390x", elf: { bits64: true, bigEndian: true, machine: 0x16 } },
  mips64le: { qemu: "mips64el", elf: { bits64: true, bigEndian: false, machine: 0x08 } },
  mips64: { qemu: "mips64", elf: { bits64: true, bigEndian: true, machine: 0x08 } },
  loong64: { qemu: "loongarch64", elf: { bits64: true, bigEndian: false, machine: 0x102 } },
};

/** What else a host's CPU runs without emulation (x86-64 runs i386 binaries). */
const ALSO_NATIVE: Record<string, readonly string[]> = { amd64: ["386"] };

/** Whether the host runs `platform`'s binaries itself (undefined: the host's own platform). */
export function runsNatively(platform: Platform | undefined, host: Platform = hostPlatform()): boolean {
  if (!platform) return true;
  const want = normalizePlatform(platform);
  const have = normalizePlatform(host);
  if (want.os !== have.os) return false;
  return want.architecture === have.architecture || (ALSO_NATIVE[have.architecture] ?? []).includes(want.architecture);
}

/** qemu's name for an architecture (qemu-<name>-static), or undefined for one kitbuild does not know. */
export function qemuName(architecture: string): string | undefined {
  return ARCHES[normalizePlatform({ os: "linux", architecture }).architecture]?.qemu;
}

/** The first bytes of an executable of that architecture, for matching binfmt_misc's magic. */
export function elfHeader(architecture: string): Uint8Array | undefined {
  const elf = ARCHES[normalizePlatform({ os: "linux", architecture }).architecture]?.elf;
  if (!elf) return undefined;
  const h = new Uint8Array(20);
  h.set([0x7f, 0x45, 0x4c, 0x46, elf.bits64 ? 2 : 1, elf.bigEndian ? 2 : 1, 1]);
  // e_type ET_EXEC (2) and e_machine, each 16 bits in the file's byte order.
  const view = new DataView(h.buffer);
  view.setUint16(16, 2, !elf.bigEndian);
  view.setUint16(18, elf.machine, !elf.bigEndian);
  return h;
}
