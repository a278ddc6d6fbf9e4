// What a step gets in the sandbox (Docker's default capabilities, masked and read-only paths, no
// devices beyond runc's defaults) and what `RUN --security=insecure` adds, as BuildKit grants it:
// every capability, nothing masked, writable /sys and cgroupfs, and the devices of a privileged
// container (kmsg, fuse, cuse, kvm, tun, loop).
import { existsSync, readdirSync, readFileSync } from "node:fs";

export const DEFAULT_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

export const MASKED_PATHS = [
  "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
  "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
];

export const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/** Capability names by number (linux/capability.h). */
const ALL_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
  "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
  "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
];

/**
 * Every capability kitbuild itself holds, as BuildKit grants the set the daemon holds: asking runc
 * for one outside it fails (a kitbuild inside a container often lacks a few).
 */
export function allCapabilities(): string[] {
  let effective = (1n << BigInt(ALL_CAPS.length)) - 1n;
  try {
    const line = readFileSync("/proc/self/status", "utf8").split("\n").find((l) => l.startsWith("CapEff:"));
    if (line) effective = BigInt(`0x${line.slice("CapEff:".length).trim()}`);
  } catch {
    // keep the full list
  }
  return ALL_CAPS.filter((_, bit) => (effective >> BigInt(bit)) & 1n);
}

type Device = { path: string; type: "c" | "b"; major: number; minor: number };

/** The devices an insecure step gets, with loop devices up to eight past the highest the host has. */
export function insecureDevices(): Device[] {
  const devices: Device[] = [
    { path: "/dev/kmsg", type: "c", major: 1, minor: 11 },
    { path: "/dev/cuse", type: "c", major: 10, minor: 203 },
    { path: "/dev/fuse", type: "c", major: 10, minor: 229 },
    { path: "/dev/kvm", type: "c", major: 10, minor: 232 },
    { path: "/dev/net/tun", type: "c", major: 10, minor: 200 },
    { path: "/dev/loop-control", type: "c", major: 10, minor: 237 },
  ];
  for (let i = 0; i <= highestLoopDevice() + 8; i++) devices.push({ path: `/dev/loop${i}`, type: "b", major: 7, minor: i });
  return devices;
}

function highestLoopDevice(): number {
  if (!existsSync("/dev")) return -1;
  let highest = -1;
  for (const name of readdirSync("/dev")) {
    const m = /^loop(\d+)$/.exec(name);
    if (m) highest = Math.max(highest, Number(m[1]));
  }
  return highest;
}
