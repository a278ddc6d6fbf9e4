// pasta (Debian's `passt` package): user-mode networking for a step's network namespace. It gives
// the namespace an interface with its own addresses and a default route, and carries the step's
// connections out through ordinary sockets of the host, so outbound access works as root and in a
// rootless build alike. Nothing is forwarded into the namespace or to ports bound on the host's
// loopback (-t/-u/-T/-U none), and the gateway address is not mapped to the host (--no-map-gw), so a
// step cannot reach services listening on the host's 127.0.0.1.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { canceledError } from "../../util/abort.ts";
import { KitError } from "../../util/errors.ts";
import type { HelperTracker } from "../executor.ts";

/** The namespace's side: its address, its gateway, and where pasta answers DNS when asked to forward. */
export const SANDBOX_NET = { address: "10.0.2.100", prefix: 24, gateway: "10.0.2.2", dns: "10.0.2.3", ifname: "eth0" } as const;

/** pasta's path on PATH, or undefined when it is not installed. */
export function findPasta(): string | undefined {
  return Bun.which("pasta") ?? undefined;
}

export type PastaOptions = {
  pasta: string;
  /** The namespace file to attach to. */
  netns: string;
  /** Where pasta writes its pid once the namespace is configured. */
  pidFile: string;
  /** Answer DNS queries to SANDBOX_NET.dns with the host's resolver (used when that one is on loopback). */
  dnsForward: boolean;
  helpers: HelperTracker;
  signal: AbortSignal;
};

export type RunningPasta = AsyncDisposable & { readonly pid: number };

const READY_TIMEOUT_MS = 30_000;

/**
 * Starts pasta in the foreground (kitbuild's own child, so it is reaped however the step ends) and
 * returns once the namespace is configured: pasta writes its pid file only after that.
 */
export async function startPasta(opts: PastaOptions): Promise<RunningPasta> {
  if (opts.signal.aborted) throw canceledError(opts.signal);
  const net = SANDBOX_NET;
  const args = [
    "--foreground", "--quiet",
    // As root pasta would drop to "nobody", who may not enter the namespace (and is not mapped in a
    // single-id rootless build); it confines itself in namespaces of its own either way.
    "--runas", "0:0",
    "--config-net", "-t", "none", "-u", "none", "-T", "none", "-U", "none", "--no-map-gw",
    "--address", net.address, "--netmask", String(net.prefix), "--gateway", net.gateway, "--ns-ifname", net.ifname,
    ...(opts.dnsForward ? ["--dns-forward", net.dns] : []),
    "--pid", opts.pidFile, "--netns", opts.netns,
  ];
  const child = spawn(opts.pasta, args, { stdio: ["ignore", "ignore", "pipe"], detached: true });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => void (stderr += d.toString("utf8")));
  const exited = new Promise<number>((resolve) => {
    child.once("error", () => resolve(-1));
    child.once("exit", (code, sig) => resolve(code ?? (sig ? 128 : -1)));
  });
  let gone = false;
  void exited.then(() => (gone = true));
  const pid = child.pid;
  if (pid === undefined) throw pastaError(opts.pasta, "it could not be started", stderr);
  opts.helpers.started(pid);
  const running: RunningPasta = {
    pid,
    [Symbol.asyncDispose]: async () => {
      await stop(pid, exited, () => gone);
      opts.helpers.ended(pid);
    },
  };
  try {
    await waitReady(opts, () => gone);
  } catch (e) {
    await running[Symbol.asyncDispose]();
    if (e instanceof KitError) throw e;
    throw pastaError(opts.pasta, "it did not configure the namespace", stderr);
  }
  if (gone) {
    await running[Symbol.asyncDispose]();
    throw pastaError(opts.pasta, "it exited before the namespace was configured", stderr);
  }
  return running;
}

async function waitReady(opts: PastaOptions, gone: () => boolean): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (let delay = 1; ; delay = Math.min(delay + 1, 10)) {
    if (opts.signal.aborted) throw canceledError(opts.signal);
    if (gone()) return;
    if (existsSync(opts.pidFile) && readFileSync(opts.pidFile, "utf8").trim() !== "") return;
    if (Date.now() > deadline) throw new Error("timeout");
    await sleep(delay);
  }
}

/**
 * Kills pasta and resolves once it is gone (and reaped). SIGKILL: it keeps nothing worth flushing,
 * and it takes tens of milliseconds to act on SIGTERM, on every step.
 */
async function stop(pid: number, exited: Promise<number>, gone: () => boolean): Promise<void> {
  if (gone()) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
  await exited;
}

function pastaError(path: string, what: string, stderr: string): KitError {
  // pasta also tries the system logger; those complaints say nothing about the failure.
  const said = stderr.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("Failed to send")).join("; ");
  return new KitError("E_RUN_NETWORK", `pasta ("${path}") failed to set up the step's network: ${what}${said ? `: ${said}` : ""}`, {
    hint: "check that /dev/net/tun exists and is usable (mode 0666, as udev sets it), or use RUN --network=none",
  });
}

/**
 * Kills the pasta of steps whose kitbuild died (its netns path names the owner's pid: `--netns
 * <stepsDir>/kitbuild-PID-N/netns`). The watchdog kills pasta after a SIGKILL, but a kill between
 * spawning pasta and telling the watchdog, or of the watchdog itself, would leave it running: its
 * namespace file sat on a tmpfs that is gone, so pasta never sees it deleted.
 */
export function killOrphanPastas(stepsDir: string, isAlive: (pid: number) => boolean): void {
  const marker = `--netns\0${stepsDir}/kitbuild-`;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    const at = cmdline.indexOf(marker);
    if (at < 0 || !cmdline.split("\0", 1)[0]?.endsWith("pasta")) continue;
    const owner = Number(/^(\d+)-/.exec(cmdline.slice(at + marker.length))?.[1]);
    if (!owner || isAlive(owner)) continue;
    try {
      process.kill(Number(entry), "SIGKILL");
    } catch {
      // already gone
    }
  }
}
