// `login` and `logout` as docker does them: the credentials are tried against the registry first
// (GET /v2/ answering its challenge; a token service's refresh token is kept instead of the
// password), then written to the credential helper docker would use, or to "auths" in the config.
import { KitError } from "../util/errors.ts";
import { RegistryClient } from "./client.ts";
import { helperErase, helperStore } from "./credential-helper.ts";
import { type Credentials, toAuthEntry, toHelperCredentials } from "./credentials.ts";
import { type DockerConfig, dockerConfigPath, findAuthKey, helperFor, hostnameOfKey, readDockerConfig, serverKey, writeDockerConfig } from "./docker-config.ts";

export type LoginRequest = {
  /** What the user typed ("docker.io", "https://reg:5000"); normalized as docker does. */
  server: string;
  username: string;
  password: string;
  /** The environment: DOCKER_CONFIG or HOME say where the config is, PATH where helpers are. */
  env: Record<string, string | undefined>;
  insecureRegistries: readonly string[];
};

export type LoginResult = { domain: string; stored: "helper" | "config"; configPath: string; identityToken: boolean };

/** The registry host a login server argument names. */
export function loginDomain(server: string): string {
  return hostnameOfKey(server.trim() || "docker.io");
}

export async function login(req: LoginRequest, signal: AbortSignal): Promise<LoginResult> {
  const domain = loginDomain(req.server);
  const creds = await verifyCredentials(domain, req, signal);
  const configPath = dockerConfigPath(req.env);
  const config = readDockerConfig(configPath);
  const helper = helperFor(config, domain);
  const key = serverKey(domain);
  const auths = { ...config.auths };
  if (helper) {
    await helperStore(helper, toHelperCredentials(key, creds, req.username), req.env, signal);
    // docker keeps an empty entry so the config still lists where one is logged in.
    auths[key] = {};
  } else {
    auths[key] = toAuthEntry(creds, req.username);
  }
  writeDockerConfig(configPath, { ...config, auths });
  return { domain, stored: helper ? "helper" : "config", configPath, identityToken: "identityToken" in creds };
}

async function verifyCredentials(domain: string, req: LoginRequest, signal: AbortSignal): Promise<Credentials> {
  const given: Credentials = { username: req.username, password: req.password };
  const client = new RegistryClient({ insecureRegistries: req.insecureRegistries, credentials: async () => given, offlineToken: true });
  const subject = { domain, what: `login to "${domain}"` };
  let res: Response;
  try {
    res = await client.request(domain, { target: "", scopes: [], retry: true, subject, signal });
  } catch (e) {
    if (e instanceof KitError && e.code === "E_REGISTRY_UNAUTHORIZED") throw refused(domain, e);
    throw e;
  }
  await res.body?.cancel();
  if (res.status === 401 || res.status === 403) throw refused(domain);
  if (!res.ok) throw new KitError("E_REGISTRY_HTTP", `login to "${domain}": the registry answered HTTP ${res.status}`);
  const refresh = client.refreshToken(domain);
  return refresh ? { identityToken: refresh } : given;
}

function refused(domain: string, cause?: unknown): KitError {
  return new KitError("E_REGISTRY_LOGIN_FAILED", `login to "${domain}" failed: the username or password was refused`, {
    cause,
    hint: "check both (an access token may be needed instead of the password); nothing was saved",
  });
}

export type LogoutResult = { domain: string; removed: boolean };

/** Removes the stored credentials from the helper and from "auths" (every key naming the host). */
export async function logout(server: string, env: Record<string, string | undefined>, signal: AbortSignal): Promise<LogoutResult> {
  const domain = loginDomain(server);
  const configPath = dockerConfigPath(env);
  const config = readDockerConfig(configPath);
  const helper = helperFor(config, domain);
  let removed = helper ? await helperErase(helper, serverKey(domain), env, signal) : false;
  const auths = { ...config.auths };
  for (let key = findAuthKey(config, domain); key !== undefined; key = findAuthKey({ auths } as DockerConfig, domain)) {
    delete auths[key];
    removed = true;
  }
  if (removed) writeDockerConfig(configPath, { ...config, auths });
  return { domain, removed };
}
