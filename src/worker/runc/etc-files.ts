// The /etc files a step sees but never keeps: resolv.conf (from the host's), hosts and hostname,
// written to the step's state directory and bind-mounted read-only.
import { readFileSync, writeFileSync } from "node:fs";
import { errnoCode } from "../../util/errors.ts";

export const DEFAULT_HOSTNAME = "buildkitsandbox";

const FALLBACK_NAMESERVERS = ["nameserver 8.8.8.8", "nameserver 8.8.4.4", "nameserver 2001:4860:4860::8888", "nameserver 2001:4860:4860::8844"];

export type EtcFiles = { resolvConf: string; hosts: string; hostname: string };

export function writeEtcFiles(dir: string, hostname: string, network: "host" | "none"): EtcFiles {
  const files = { resolvConf: `${dir}/resolv.conf`, hosts: `${dir}/hosts`, hostname: `${dir}/hostname` };
  writeFileSync(files.resolvConf, resolvConf(network));
  writeFileSync(files.hosts, `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`);
  writeFileSync(files.hostname, `${hostname}\n`);
  return files;
}

/**
 * The host's resolv.conf. With the host's network, loopback nameservers work and are kept; in a
 * network namespace of its own a step cannot reach them, so they are dropped (and public resolvers
 * used when none is left), as BuildKit does.
 */
function resolvConf(network: "host" | "none"): string {
  let text = "";
  try {
    text = readFileSync("/etc/resolv.conf", "utf8");
  } catch (e) {
    if (errnoCode(e) !== "ENOENT") throw e;
  }
  if (network === "host") return text;
  const lines = text.split("\n").filter((l) => !/^\s*nameserver\s+(127\.|::1\b)/.test(l));
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) lines.push(...FALLBACK_NAMESERVERS);
  return `${lines.join("\n").trim()}\n`;
}
