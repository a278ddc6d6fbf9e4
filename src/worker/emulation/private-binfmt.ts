// binfmt_misc handlers of kitbuild's own. In a user namespace (Linux 6.7 and later) a process may
// mount a binfmt_misc instance that belongs to that namespace and register handlers in it; they
// apply to every process of the namespace, the steps' containers included, and vanish with it.
// A rootless build (kitbuild's own user and mount namespaces) registers one with the F flag per
// foreign architecture, so the kernel emulates every program a step starts: Debian's qemu, put in
// front of the command, would emulate only the first. The host's handlers are never touched.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mount } from "../../fs/libc.ts";
import { elfHeader, qemuName } from "./architectures.ts";

const BINFMT_DIR = "/proc/sys/fs/binfmt_misc";

let mountState: "mounted" | "failed" | undefined;
const registered = new Map<string, string | undefined>();

/**
 * The name of a handler for `architecture` registered in this process's own binfmt_misc (mounted
 * on first use), or undefined where the kernel does not allow it (before 6.7) or registering failed.
 * Only for a process in a mount namespace of its own: the mount would otherwise be seen by others.
 */
export function privateHandlerFor(architecture: string, emulator: string): string | undefined {
  if (registered.has(architecture)) return registered.get(architecture);
  const handler = registerPrivate(architecture, emulator);
  registered.set(architecture, handler);
  return handler;
}

function registerPrivate(architecture: string, emulator: string): string | undefined {
  const qemu = qemuName(architecture);
  const line = qemu ? handlerLine(`kitbuild-${qemu}`, architecture, emulator) : undefined;
  if (!qemu || !line || !mountOwnBinfmt()) return undefined;
  const name = `kitbuild-${qemu}`;
  try {
    if (!existsSync(`${BINFMT_DIR}/${name}`)) writeFileSync(`${BINFMT_DIR}/register`, line);
    return name;
  } catch {
    return undefined;
  }
}

function mountOwnBinfmt(): boolean {
  if (mountState === undefined) {
    try {
      mount("binfmt_misc", BINFMT_DIR, "binfmt_misc", 0, "");
      mountState = "mounted";
    } catch {
      mountState = "failed";
    }
  }
  return mountState === "mounted";
}

/**
 * The register line: the magic and mask of the installed qemu's own handler when there is one,
 * else ELF executables and shared objects of the architecture (any OS ABI byte). F opens the emulator now, so it need not exist in
 * the container; P keeps argv[0] when the emulator is Debian's `-binfmt-P` name for qemu.
 */
export function handlerLine(name: string, architecture: string, emulator: string, debianDir = DEBIAN_HANDLERS): string | undefined {
  const flags = emulator.endsWith("-binfmt-P") ? "FP" : "F";
  const debian = debianMagicAndMask(architecture, debianDir);
  if (debian) return `:${name}:M::${debian.magic}:${debian.mask}:${emulator}:${flags}`;
  const magic = elfHeader(architecture);
  if (!magic) return undefined;
  const mask = new Uint8Array(magic.length).fill(0xff);
  mask[7] = 0x00;
  // e_type: ET_EXEC (2) or ET_DYN (3), told apart by the low bit, whose byte depends on the byte order.
  mask[magic[5] === 2 ? 17 : 16] = 0xfe;
  const hex = (b: Uint8Array) => [...b].map((x) => `\\x${x.toString(16).padStart(2, "0")}`).join("");
  return `:${name}:M::${hex(magic)}:${hex(mask)}:${emulator}:${flags}`;
}

/** Where qemu-user-static puts its handlers for systemd-binfmt: their magic and mask are qemu's own, per architecture. */
const DEBIAN_HANDLERS = "/usr/lib/binfmt.d";

/** The magic and mask of the installed qemu's handler for the architecture, as written there. */
function debianMagicAndMask(architecture: string, dir: string): { magic: string; mask: string } | undefined {
  const qemu = qemuName(architecture);
  try {
    const fields = readFileSync(`${dir}/qemu-${qemu}.conf`, "utf8").trim().split(":");
    const [magic, mask] = [fields[4], fields[5]];
    return fields[2] === "M" && magic && mask ? { magic, mask } : undefined;
  } catch {
    return undefined;
  }
}
