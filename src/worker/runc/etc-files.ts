// The /etc files a step sees but never keeps: resolv.conf (from the host's), hosts (with the
// build's --add-host entries) and hostname, written to the step's state directory and bind-mounted
// read-only.
import { readFileSync, writeFileSync } from "node:fs";
import { errnoCode } from "../../util/errors.ts";
import type { ExtraHost, NetworkMode } from "../executor.ts";

export const DEFAULT_HOSTNAME = "buildkitsandbox";

const FALLBACK_NAMESERVERS = ["nameserver 8.8.8.8", "nameserver 8.8.4.4", "nameserver 2001:4860:4860::8888", "nameserver 2001:4860:4860::8844"];

/** Where systemd-resolved keeps the real upstream servers when /etc/resolv.conf points at its stub. */
const RESOLVED_UPSTREAM = "/run/systemd/resolve/resolv.conf";

const LOOPBACK_NAMESERVER = /^\s*nameserver\s+(127\.|::1\s*$)/;

export type EtcFiles = { resolvConf: string; hosts: string; hostname: string };

export type StepNames = {
  hostname: string;
  network: NetworkMode;
  /** The sandbox's nameserver when pasta forwards DNS to a resolver on the host's loopback. */
  dnsForward?: string;
  extraHosts: readonly ExtraHost[];
};

export function writeEtcFiles(dir: string, names: StepNames): EtcFiles {
  const files = { resolvConf: `${dir}/resolv.conf`, hosts: `${dir}/hosts`, hostname: `${dir}/hostname` };
  const host = hostResolvConf();
  const resolv = names.dnsForward === undefined
    ? deriveResolvConf(host, names.network, () => readOrEmpty(RESOLVED_UPSTREAM))
    : forwardedResolvConf(host, names.dnsForward);
  writeFileSync(files.resolvConf, resolv);
  writeFileSync(files.hosts, hostsFile(names.hostname, names.extraHosts));
  writeFileSync(files.hostname, `${names.hostname}\n`);
  return files;
}

/** The host's /etc/resolv.conf ("" when it has none). */
export function hostResolvConf(): string {
  return readOrEmpty("/etc/resolv.conf");
}

/** Whether a resolv.conf names a resolver on loopback (which a namespace of the step's own cannot reach directly). */
export function hasLoopbackResolver(text: string): boolean {
  return text.split("\n").some((l) => LOOPBACK_NAMESERVER.test(l));
}

/** BuildKit's hosts file, then the --add-host entries in order. */
export function hostsFile(hostname: string, extra: readonly ExtraHost[]): string {
  return `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n${extra.map((h) => `${h.ip}\t${h.host}\n`).join("")}`;
}

/**
 * The step's resolv.conf from the host's, as BuildKit derives it. With the host's network it is
 * kept as it is (loopback resolvers work there). In a network namespace of its own a step cannot
 * reach loopback resolvers: systemd-resolved's stub (only 127.0.0.53) is replaced by its upstream
 * file, loopback nameservers are dropped, and public resolvers are used when none is left (also
 * when the host has none at all).
 */
export function deriveResolvConf(hostText: string, network: NetworkMode, resolvedUpstream: () => string): string {
  let text = hostText;
  const servers = nameservers(text);
  if (network !== "host" && servers.length === 1 && servers[0] === "127.0.0.53") text = resolvedUpstream() || text;
  if (network === "host" && servers.length > 0) return text;
  const lines = text.trim().split("\n").filter((l) => l !== "" && !LOOPBACK_NAMESERVER.test(l));
  if (nameservers(lines.join("\n")).length === 0) lines.push(...FALLBACK_NAMESERVERS);
  return `${lines.join("\n").trim()}\n`;
}

/**
 * The sandbox's resolv.conf when pasta forwards DNS (the host has a resolver on loopback): the
 * forwarding address alone, with the host's search and options lines. (pasta forwards to the host's
 * first resolver and, while it forwards, also answers for it, so the other servers are left out.)
 */
export function forwardedResolvConf(hostText: string, forwarder: string): string {
  const lines = hostText.trim().split("\n").filter((l) => l !== "" && !/^\s*nameserver\s/.test(l));
  return `${[`nameserver ${forwarder}`, ...lines].join("\n")}\n`;
}

function nameservers(text: string): string[] {
  return text.split("\n").flatMap((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1] ?? []);
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if (errnoCode(e) !== "ENOENT") throw e;
    return "";
  }
}
