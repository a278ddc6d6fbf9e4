// docker's config file ($DOCKER_CONFIG/config.json or ~/.docker/config.json) as docker reads and
// writes it: "auths" keyed by server address, "credsStore" and "credHelpers". Fields kitbuild does
// not know are kept when the file is written back.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname } from "node:path";
import { KitError, errnoCode } from "../util/errors.ts";

export type AuthEntry = { auth?: string; identitytoken?: string; [field: string]: unknown };

export type DockerConfig = {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [field: string]: unknown;
};

/** Docker Hub's credentials live under its v1 index address, as docker writes them. */
const DOCKER_HUB_KEY = "https://index.docker.io/v1/";

export function dockerConfigPath(env: Record<string, string | undefined> = process.env): string {
  return `${env.DOCKER_CONFIG || `${env.HOME || homedir()}/.docker`}/config.json`;
}

export function readDockerConfig(path: string): DockerConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return {};
    throw new KitError("E_REGISTRY_CONFIG", `cannot read docker config "${path}"`, { cause: e, hint: "check the file's permissions" });
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new TypeError("not an object");
    return parsed as DockerConfig;
  } catch {
    // The parser's message may quote the file's text, which holds credentials: say only where.
    throw new KitError("E_REGISTRY_CONFIG", `docker config "${path}" is not a valid JSON object`, { hint: "fix or remove the file" });
  }
}

/** Writes the file as docker does (tab-indented, no final newline, mode 0600), replacing it atomically. */
export function writeDockerConfig(path: string, config: DockerConfig): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.kitbuild-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(config, null, "\t"), { mode: 0o600 });
    renameSync(tmp, path);
  } catch (e) {
    throw new KitError("E_REGISTRY_CONFIG", `cannot write docker config "${path}"`, { cause: e, hint: "check that the directory is writable (or set DOCKER_CONFIG)" });
  }
}

/** The key docker stores a registry's credentials under. */
export function serverKey(domain: string): string {
  return domain === "docker.io" ? DOCKER_HUB_KEY : domain;
}

/** "https://reg.example.com/v2/" → "reg.example.com", as docker compares auths keys. */
export function hostnameOfKey(key: string): string {
  const bare = key.replace(/^https?:\/\//, "");
  const host = bare.split("/")[0] ?? bare;
  return host === "index.docker.io" || host === "registry-1.docker.io" ? "docker.io" : host;
}

/** The auths key that holds this registry's entry, exact key first. */
export function findAuthKey(config: DockerConfig, domain: string): string | undefined {
  const auths = config.auths ?? {};
  const exact = serverKey(domain);
  if (auths[exact]) return exact;
  return Object.keys(auths).find((k) => hostnameOfKey(k) === domain);
}

/** The credential helper that holds this registry's credentials, if the config names one. */
export function helperFor(config: DockerConfig, domain: string): string | undefined {
  const helpers = config.credHelpers ?? {};
  const key = Object.keys(helpers).find((k) => k === serverKey(domain) || hostnameOfKey(k) === domain);
  return (key ? helpers[key] : undefined) || config.credsStore || undefined;
}
