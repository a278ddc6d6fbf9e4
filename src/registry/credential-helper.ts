// docker's credential helper protocol: `docker-credential-<name> get|store|erase` with the server
// address or a JSON document on stdin. Helper output can hold secrets, so none of it is ever put in
// an error message; only the helper's name and exit status are.
import { canceledError } from "../util/abort.ts";
import { KitError } from "../util/errors.ts";

/** What `store` reads and `get` prints. A Username of "<token>" marks an identity token. */
export type HelperCredentials = { ServerURL: string; Username: string; Secret: string };

export const TOKEN_USERNAME = "<token>";
// The protocol's own "not found" answer: helpers print exactly this and exit 1.
const NOT_FOUND = "credentials not found in native keychain";

type HelperResult = { code: number; stdout: string };

/** Where helpers are looked up: the PATH of the environment kitbuild was started with. */
export type HelperEnv = Record<string, string | undefined>;

async function runHelper(name: string, action: "get" | "store" | "erase", input: string, env: HelperEnv, signal: AbortSignal): Promise<HelperResult> {
  const bin = Bun.which(`docker-credential-${name}`, { PATH: env.PATH ?? "" });
  if (!bin) {
    throw new KitError("E_REGISTRY_CREDENTIALS", `credential helper "docker-credential-${name}" was not found`, {
      hint: `install docker-credential-${name} on your PATH, or remove "${name}" from credsStore/credHelpers in your docker config`,
    });
  }
  const proc = Bun.spawn([bin, action], { stdin: new TextEncoder().encode(input), stdout: "pipe", stderr: "ignore", env: env as Record<string, string>, signal });
  const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  if (signal.aborted) throw canceledError(signal);
  return { code, stdout };
}

function helperFailed(name: string, action: string, code: number): KitError {
  return new KitError("E_REGISTRY_CREDENTIALS", `credential helper "docker-credential-${name}" failed to ${action} credentials (exit status ${code})`, {
    hint: `run \`docker-credential-${name} ${action}\` yourself to see why`,
  });
}

export async function helperGet(name: string, serverUrl: string, env: HelperEnv, signal: AbortSignal): Promise<HelperCredentials | undefined> {
  const res = await runHelper(name, "get", serverUrl, env, signal);
  if (res.code !== 0) {
    if (res.stdout.trim() === NOT_FOUND) return undefined;
    throw helperFailed(name, "get", res.code);
  }
  let creds: Partial<HelperCredentials>;
  try {
    creds = JSON.parse(res.stdout) as Partial<HelperCredentials>;
  } catch {
    throw new KitError("E_REGISTRY_CREDENTIALS", `credential helper "docker-credential-${name}" printed something that is not JSON`);
  }
  if (!creds.Secret) return undefined;
  return { ServerURL: creds.ServerURL ?? serverUrl, Username: creds.Username ?? "", Secret: creds.Secret };
}

export async function helperStore(name: string, creds: HelperCredentials, env: HelperEnv, signal: AbortSignal): Promise<void> {
  const res = await runHelper(name, "store", JSON.stringify(creds), env, signal);
  if (res.code !== 0) throw helperFailed(name, "store", res.code);
}

/** Returns false when the helper had nothing stored for the server. */
export async function helperErase(name: string, serverUrl: string, env: HelperEnv, signal: AbortSignal): Promise<boolean> {
  const res = await runHelper(name, "erase", serverUrl, env, signal);
  if (res.code === 0) return true;
  if (res.stdout.trim() === NOT_FOUND) return false;
  throw helperFailed(name, "erase", res.code);
}
