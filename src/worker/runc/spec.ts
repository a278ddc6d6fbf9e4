// The OCI runtime spec for one RUN step: the process, Docker's default capabilities, masked and
// read-only paths, Docker's default seccomp profile, the standard kernel filesystems, the network
// namespace, the /etc files bind-mounted from the step's state directory, the step's own mounts
// (parents first), and what `--security=insecure` changes.
import { existsSync, readFileSync } from "node:fs";
import type { NetworkMode } from "../executor.ts";
import { defaultSeccomp, hostArch, kernelRelease } from "../seccomp/profile.ts";
import { allCapabilities, DEFAULT_CAPS, insecureDevices, MASKED_PATHS, READONLY_PATHS } from "./security.ts";
import type { ResolvedUser } from "./user.ts";

export type OciMount = { destination: string; type: string; source: string; options: string[] };

export type SpecInput = {
  rootfs: string;
  readonlyRoot: boolean;
  args: string[];
  env: string[];
  cwd: string;
  user: ResolvedUser;
  hostname: string;
  /** host: the host's namespace; none: a new one (only loopback); sandbox: the one at `netnsPath`. */
  network: NetworkMode;
  netnsPath?: string;
  security: "sandbox" | "insecure";
  /** Host files bind-mounted (read-only) over /etc/resolv.conf, /etc/hosts and /etc/hostname. */
  etcFiles: { resolvConf: string; hosts: string; hostname: string };
  mounts: OciMount[];
  /**
   * Set in a user namespace: no sysfs without a network namespace of the step's own, no cgroup
   * rules; without `processSandbox`, no pid namespace and the host's /proc bound in.
   */
  userns?: { singleId: boolean; processSandbox: boolean };
  /** --ulimit by docker's names; each replaces the default of its kind. -1 is unlimited. */
  ulimits?: ReadonlyArray<{ name: string; soft: number; hard: number }>;
  /** Bytes of /dev/shm (default 64 MiB). */
  shmSize?: number;
};

function kernelMounts(insecure: boolean, userns: SpecInput["userns"], ownNetwork: boolean, shmSize: number | undefined): OciMount[] {
  const ro = insecure ? [] : ["ro"];
  const mounts = userns ? usernsKernelMounts(ro, userns, ownNetwork) : rootKernelMounts(ro);
  // 64 MiB by default; with --shm-size, BuildKit's Dockerfile frontend mounts a plain tmpfs of that
  // size over /dev/shm in each RUN (nosuid only, as its tmpfs mounts).
  if (!shmSize) return mounts;
  const shm: OciMount = { destination: "/dev/shm", type: "tmpfs", source: "tmpfs", options: ["nosuid", "mode=1777", `size=${shmSize}`] };
  return mounts.map((m) => (m.destination === "/dev/shm" ? shm : m));
}

function rootKernelMounts(ro: string[]): OciMount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", ...ro] },
    { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: [...ro, "nosuid", "noexec", "nodev"] },
  ];
}

/**
 * The kernel filesystems a user namespace may mount: sysfs only in a network namespace the step owns
 * (else the host's /sys bound read-only), no cgroupfs, devpts without gid=5 when that group is not
 * mapped.
 */
function usernsKernelMounts(ro: string[], { singleId, processSandbox }: NonNullable<SpecInput["userns"]>, ownNetwork: boolean): OciMount[] {
  const sys: OciMount = ownNetwork
    ? { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", ...ro] }
    : { destination: "/sys", type: "bind", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"] };
  const proc: OciMount = processSandbox
    ? { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] }
    : { destination: "/proc", type: "bind", source: "/proc", options: ["rbind", "nosuid", "noexec", "nodev"] };
  return [
    proc,
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", ...(singleId ? [] : ["gid=5"])] },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    sys,
  ];
}

function etcMounts(files: SpecInput["etcFiles"]): OciMount[] {
  const bind = (source: string, destination: string): OciMount => ({ destination, type: "bind", source, options: ["rbind", "ro"] });
  return [bind(files.resolvConf, "/etc/resolv.conf"), bind(files.hosts, "/etc/hosts"), bind(files.hostname, "/etc/hostname")];
}

/** The step's mounts sorted so parents are mounted before what lies inside them; a later duplicate wins. */
function orderMounts(mounts: OciMount[]): OciMount[] {
  const byDest = new Map<string, OciMount>();
  for (const m of mounts) byDest.set(m.destination, m);
  return [...byDest.values()].sort((a, b) => (a.destination < b.destination ? -1 : a.destination > b.destination ? 1 : 0));
}

export function runtimeSpec(input: SpecInput): Record<string, unknown> {
  const insecure = input.security === "insecure";
  const namespaces: Array<{ type: string; path?: string }> = [...(input.userns?.processSandbox === false ? [] : [{ type: "pid" }]), { type: "ipc" }, { type: "uts" }, { type: "mount" }];
  if (input.network === "none") namespaces.push({ type: "network" });
  if (input.network === "sandbox") {
    if (!input.netnsPath) throw new Error("a sandboxed step needs its network namespace");
    namespaces.push({ type: "network", path: input.netnsPath });
  }
  // As BuildKit: a cgroup namespace where the host has cgroup v2.
  if (existsSync("/sys/fs/cgroup/cgroup.controllers")) namespaces.push({ type: "cgroup" });
  const caps = insecure ? allCapabilities() : DEFAULT_CAPS;
  const mounts = [...kernelMounts(insecure, input.userns, input.network !== "host", input.shmSize), ...etcMounts(input.etcFiles)];
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: input.user.uid, gid: input.user.gid, additionalGids: input.user.additionalGids },
      args: input.args,
      env: input.env,
      cwd: input.cwd,
      capabilities: insecure
        ? { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: caps }
        : { bounding: caps, effective: caps, permitted: caps },
      rlimits: withUlimits(defaultRlimits(), input.ulimits ?? []),
      noNewPrivileges: false,
    },
    root: { path: input.rootfs, readonly: input.readonlyRoot },
    hostname: input.hostname,
    mounts: [...mounts.filter((m) => !input.mounts.some((u) => u.destination === m.destination)), ...orderMounts(input.mounts)],
    linux: {
      namespaces,
      maskedPaths: insecure ? [] : MASKED_PATHS,
      readonlyPaths: insecure ? [] : READONLY_PATHS,
      // Device cgroup rules need the host's root; in a user namespace runc binds the devices instead.
      ...(input.userns ? {} : {
        resources: {
          devices: insecure
            ? [{ allow: true, type: "c", access: "rwm" }, { allow: true, type: "b", access: "rwm" }]
            : [{ allow: false, access: "rwm" }],
        },
      }),
      // The filter for the step's own capabilities on the host's architecture (the syscalls of an
      // emulated platform's steps are the emulator's, of the host's architecture).
      ...(insecure ? {} : { seccomp: defaultSeccomp({ caps, arch: hostArch(), kernel: kernelRelease() }) }),
      ...(insecure ? { devices: insecureDevices().map((d) => ({ ...d, fileMode: 0o660, uid: 0, gid: 0 })) } : {}),
    },
  };
}

type Rlimit = { type: string; soft: number | unknown; hard: number | unknown };

/**
 * The defaults with each --ulimit in place of its kind (docker's `nofile` is RLIMIT_NOFILE). -1,
 * unlimited, is the largest uint64, which a JS number cannot hold: written as raw JSON.
 */
function withUlimits(defaults: Rlimit[], ulimits: ReadonlyArray<{ name: string; soft: number; hard: number }>): Rlimit[] {
  // JSON.rawJSON is in Bun but not yet in TypeScript's lib.
  const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;
  const value = (n: number) => (n < 0 ? rawJSON("18446744073709551615") : n);
  const given = ulimits.map((u) => ({ type: `RLIMIT_${u.name.toUpperCase()}`, soft: value(u.soft), hard: value(u.hard) }));
  return [...defaults.filter((d) => !given.some((g) => g.type === d.type)), ...given];
}

/**
 * Open files: the conventional soft limit of 1024 under the hard limit kitbuild has. Bun raises its
 * own soft limit to the hard one at start, and a step should not inherit that; other limits are
 * inherited, as BuildKit's steps inherit buildkitd's.
 */
function defaultRlimits(): Rlimit[] {
  let hard = 1048576;
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"));
    const value = line?.trim().split(/\s+/)[4];
    if (value && /^\d+$/.test(value)) hard = Number(value);
  } catch {
    // keep the default
  }
  return [{ type: "RLIMIT_NOFILE", soft: Math.min(1024, hard), hard }];
}
