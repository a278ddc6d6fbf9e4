// Credentials as docker reads them: $DOCKER_CONFIG/config.json or ~/.docker/config.json, "auths"
// entries with a base64 "auth" or an "identitytoken". (Credential helpers come with issue 5.)
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { errnoCode, KitError } from "../util/errors.ts";

export type Credentials = { username: string; password: string } | { identityToken: string };

export type CredentialSource = (domain: string) => Credentials | undefined;

type DockerConfig = { auths?: Record<string, { auth?: string; identitytoken?: string }> };

export function dockerConfigPath(env: Record<string, string | undefined> = process.env): string {
  return `${env.DOCKER_CONFIG ?? `${homedir()}/.docker`}/config.json`;
}

export function dockerConfigCredentials(path = dockerConfigPath()): CredentialSource {
  let config: DockerConfig | undefined;
  const load = (): DockerConfig => {
    if (config) return config;
    try {
      config = JSON.parse(readFileSync(path, "utf8")) as DockerConfig;
    } catch (e) {
      if (errnoCode(e) !== "ENOENT") {
        throw new KitError("E_REGISTRY_CONFIG", `cannot read docker config "${path}"`, { cause: e, hint: "fix or remove the file" });
      }
      config = {};
    }
    return config;
  };
  return (domain) => {
    const auths = load().auths ?? {};
    const keys = domain === "docker.io" ? ["https://index.docker.io/v1/", "docker.io", "index.docker.io"] : [domain, `https://${domain}`, `http://${domain}`];
    for (const key of keys) {
      const entry = auths[key];
      if (!entry) continue;
      if (entry.identitytoken) return { identityToken: entry.identitytoken };
      if (entry.auth) {
        const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
        const sep = decoded.indexOf(":");
        if (sep > 0) return { username: decoded.slice(0, sep), password: decoded.slice(sep + 1) };
      }
    }
    return undefined;
  };
}
