// Credentials as docker finds them for a registry: its credential helper (credHelpers for that host,
// else credsStore) through `docker-credential-<name> get`, else the "auths" entry of the docker
// config (a base64 "auth" of user:password, or an "identitytoken").
import { type HelperCredentials, type HelperEnv, helperGet, TOKEN_USERNAME } from "./credential-helper.ts";
import { type AuthEntry, dockerConfigPath, findAuthKey, helperFor, readDockerConfig, serverKey } from "./docker-config.ts";

export type Credentials = { username: string; password: string } | { identityToken: string };

/** Looks up the credentials for a registry host ("docker.io", "127.0.0.1:5000"). */
export type CredentialSource = (domain: string, signal: AbortSignal) => Promise<Credentials | undefined>;

/** `env` is the environment kitbuild runs in: DOCKER_CONFIG, HOME and the PATH helpers are found on. */
export function dockerConfigCredentials(env: HelperEnv): CredentialSource {
  const path = dockerConfigPath(env);
  return async (domain, signal) => {
    const config = readDockerConfig(path);
    const helper = helperFor(config, domain);
    if (helper) {
      const found = await helperGet(helper, serverKey(domain), env, signal);
      if (!found) return undefined;
      return found.Username === TOKEN_USERNAME ? { identityToken: found.Secret } : { username: found.Username, password: found.Secret };
    }
    const key = findAuthKey(config, domain);
    return key ? fromAuthEntry(config.auths?.[key] as AuthEntry) : undefined;
  };
}

export function fromAuthEntry(entry: AuthEntry): Credentials | undefined {
  if (typeof entry.identitytoken === "string" && entry.identitytoken) return { identityToken: entry.identitytoken };
  if (typeof entry.auth !== "string" || !entry.auth) return undefined;
  const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
  const sep = decoded.indexOf(":");
  return sep > 0 ? { username: decoded.slice(0, sep), password: decoded.slice(sep + 1) } : undefined;
}

export function toAuthEntry(creds: Credentials, username: string): AuthEntry {
  if ("identityToken" in creds) return { auth: Buffer.from(`${username}:`).toString("base64"), identitytoken: creds.identityToken };
  return { auth: Buffer.from(`${creds.username}:${creds.password}`).toString("base64") };
}

export function toHelperCredentials(serverUrl: string, creds: Credentials, username: string): HelperCredentials {
  return "identityToken" in creds
    ? { ServerURL: serverUrl, Username: TOKEN_USERNAME, Secret: creds.identityToken }
    : { ServerURL: serverUrl, Username: username, Secret: creds.password };
}
