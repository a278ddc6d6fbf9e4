// The /etc files a step sees but never keeps: resolv.conf (from the host's), hosts and hostname,
// written to the step's state directory and bind-mounted read-only.
import { readFileSync, writeFileSync } from "node:fs";
import { errnoCode } from "../../util/errors.ts";

export const DEFAULT_HOSTNAME = "buildkitsandbox";

const FALLBACK_NAMESERVERS = ["nameserver 8.8.8.8", "nameserver 8.8.4.4", "nameserver 2001:4860:4860::8888", "nameserver 2001:4860:4860::8844"];

/** Where systemd-resolved keeps the real upstream servers when /etc/resolv.conf points at its stub. */
const RESOLVED_UPSTREAM = "/run/systemd/resolve/resolv.conf";

export type EtcFiles = { resolvConf: string; hosts: string; hostname: string };

export function writeEtcFiles(dir: string, hostname: string, network: "host" | "none"): EtcFiles {
  const files = { resolvConf: `${dir}/resolv.conf`, hosts: `${dir}/hosts`, hostname: `${dir}/hostname` };
  writeFileSync(files.resolvConf, deriveResolvConf(readOrEmpty("/etc/resolv.conf"), network, () => readOrEmpty(RESOLVED_UPSTREAM)));
  writeFileSync(files.hosts, `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`);
  writeFileSync(files.hostname, `${hostname}\n`);
  return files;
}

/**
 * The step's resolv.conf from the host's, as BuildKit derives it. With the host's network it is
 * kept as it is (loopback resolvers work there). In a network namespace of its own a step cannot
 * reach loopback resolvers: systemd-resolved's stub (only 127.0.0.53) is replaced by its upstream
 * file, loopback nameservers are dropped, and public resolvers are used when none is left (also
 * when the host has none at all).
 */
export function deriveResolvConf(hostText: string, network: "host" | "none", resolvedUpstream: () => string): string {
  let text = hostText;
  const servers = nameservers(text);
  if (network !== "host" && servers.length === 1 && servers[0] === "127.0.0.53") text = resolvedUpstream() || text;
  if (network === "host" && servers.length > 0) return text;
  const lines = text.trim().split("\n").filter((l) => l !== "" && !/^\s*nameserver\s+(127\.|::1\s*$)/.test(l));
  if (nameservers(lines.join("\n")).length === 0) lines.push(...FALLBACK_NAMESERVERS);
  return `${lines.join("\n").trim()}\n`;
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
