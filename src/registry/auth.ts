// Registry authentication: the Bearer token flow announced by WWW-Authenticate (anonymous or with
// credentials; tokens cached per host and scope set until they expire; concurrent requests for the
// same token share one fetch) and Basic auth. Credentials stay in here: no message built in this
// file contains anything they hold.
import { InFlight } from "../util/limiter.ts";
import { KitError } from "../util/errors.ts";
import type { CredentialSource, Credentials } from "./credentials.ts";
import { DEFAULT_IDLE_TIMEOUT_MS, IdleWatch, seconds } from "./idle-timeout.ts";

export type Challenge = { scheme: string; params: Record<string, string> };

function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let p = re.exec(m[2] ?? ""); p; p = re.exec(m[2] ?? "")) {
    params[(p[1] as string).toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : (p[3] ?? "");
  }
  return { scheme: (m[1] as string).toLowerCase(), params };
}

type Token = { value: string; expires: number };

export type AuthenticatorOptions = {
  credentials: CredentialSource;
  fetch: typeof fetch;
  /** Ask token services for a refresh token (docker login stores it as the identity token). */
  offlineToken?: boolean;
  /** Give up on a token service that sends nothing for this long (ms; 0: never). */
  idleTimeoutMs?: number;
};

export class Authenticator {
  private readonly tokens = new Map<string, Token>();
  private readonly basic = new Set<string>();
  private readonly creds = new Map<string, Promise<Credentials | undefined>>();
  private readonly tokenFetches = new InFlight<Token>();
  /** Refresh tokens handed out by token services, by registry host (for login). */
  readonly refreshTokens = new Map<string, string>();

  constructor(private readonly opts: AuthenticatorOptions) {}

  /** The Authorization header to send for this host and scope set, if one is known. */
  async header(domain: string, scopes: readonly string[], signal: AbortSignal): Promise<string | undefined> {
    const token = this.tokens.get(tokenKey(domain, scopes));
    if (token && token.expires > Date.now()) return `Bearer ${token.value}`;
    if (this.basic.has(domain)) return basicHeader(await this.credentialsFor(domain, signal));
    return undefined;
  }

  /** Answers a 401 challenge. Returns false when there is nothing more to try. */
  async challenge(domain: string, scopes: readonly string[], wwwAuthenticate: string | null, signal: AbortSignal): Promise<boolean> {
    const ch = wwwAuthenticate ? parseChallenge(wwwAuthenticate) : undefined;
    const creds = await this.credentialsFor(domain, signal);
    if (ch?.scheme === "basic") {
      if (!creds || this.basic.has(domain) || !("username" in creds)) return false;
      this.basic.add(domain);
      return true;
    }
    if (ch?.scheme !== "bearer" || !ch.params.realm) return false;
    // The registry may name the scopes it wants (space-separated); ask for ours and those together.
    const wanted = mergeScopes([...scopes, ...(ch.params.scope ?? "").split(" ").filter(Boolean)]);
    const key = tokenKey(domain, scopes);
    const token = await this.tokenFetches.do(key, () => this.fetchToken(domain, ch.params, wanted, creds, signal));
    this.tokens.set(key, token);
    return true;
  }

  private credentialsFor(domain: string, signal: AbortSignal): Promise<Credentials | undefined> {
    let p = this.creds.get(domain);
    if (!p) {
      p = this.opts.credentials(domain, signal);
      this.creds.set(domain, p);
      p.catch(() => this.creds.delete(domain));
    }
    return p;
  }

  private async fetchToken(domain: string, params: Record<string, string>, scopes: string[], creds: Credentials | undefined, signal: AbortSignal): Promise<Token> {
    const realm = parseRealm(params.realm as string);
    const idleMs = this.opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    const watch = new IdleWatch(idleMs, signal);
    let res: Response;
    try {
      res = creds && "identityToken" in creds
        ? await this.opts.fetch(realm, { method: "POST", body: refreshForm(creds.identityToken, params.service, scopes), signal: watch.signal, redirect: "manual" })
        : await this.opts.fetch(tokenUrl(realm, params.service, scopes, this.opts.offlineToken === true && creds !== undefined), {
            headers: basicAuthHeaders(creds),
            signal: watch.signal,
            redirect: "manual",
          });
      res = watch.watch(res);
    } catch (e) {
      watch.stop();
      if (signal.aborted) throw e;
      // The cause (a dropped or silent connection) lets the registry client retry the request.
      const why = watch.fired ? `did not answer for ${seconds(idleMs)}` : "could not be reached";
      throw new KitError("E_REGISTRY_AUTH", `the token service at "${realm.host}" ${why}`, { cause: watch.fired ?? e });
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new KitError("E_REGISTRY_UNAUTHORIZED", `the token service at "${realm.host}" refused the credentials for "${domain}"`, {
        hint: `check the username and password or token (kitbuild login ${domain})`,
      });
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new KitError("E_REGISTRY_AUTH", `the token service at "${realm.host}" answered HTTP ${res.status}`);
    }
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string; expires_in?: number; refresh_token?: string };
    const value = body.token ?? body.access_token;
    if (!value) throw new KitError("E_REGISTRY_AUTH", `the token service at "${realm.host}" returned no token`);
    if (body.refresh_token) this.refreshTokens.set(domain, body.refresh_token);
    // Expire a little early so a token never runs out in the middle of a request.
    return { value, expires: Date.now() + Math.max(10, (body.expires_in ?? 60) - 5) * 1000 };
  }
}

/**
 * One scope per resource with the union of its actions: "repository:a:pull" and
 * "repository:a:push,pull" become "repository:a:pull,push" (registries list actions in any order).
 */
export function mergeScopes(scopes: readonly string[]): string[] {
  const actions = new Map<string, Set<string>>();
  for (const scope of scopes) {
    const cut = scope.lastIndexOf(":");
    if (cut <= 0) continue;
    const resource = scope.slice(0, cut);
    const set = actions.get(resource) ?? new Set<string>();
    for (const a of scope.slice(cut + 1).split(",")) if (a) set.add(a);
    actions.set(resource, set);
  }
  return [...actions].map(([resource, set]) => `${resource}:${[...set].sort().join(",")}`);
}

function tokenKey(domain: string, scopes: readonly string[]): string {
  return `${domain} ${[...scopes].sort().join(" ")}`;
}

function parseRealm(realm: string): URL {
  try {
    return new URL(realm);
  } catch (e) {
    throw new KitError("E_REGISTRY_AUTH", "the registry announced a token service with an invalid address", { cause: e });
  }
}

function tokenUrl(realm: URL, service: string | undefined, scopes: string[], offline: boolean): URL {
  const url = new URL(realm);
  if (service) url.searchParams.set("service", service);
  for (const s of scopes) url.searchParams.append("scope", s);
  if (offline) {
    url.searchParams.set("offline_token", "true");
    url.searchParams.set("client_id", "kitbuild");
  }
  return url;
}

function refreshForm(refreshToken: string, service: string | undefined, scopes: string[]): URLSearchParams {
  const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: "kitbuild" });
  if (service) form.set("service", service);
  if (scopes.length) form.set("scope", scopes.join(" "));
  return form;
}

function basicAuthHeaders(creds: Credentials | undefined): Record<string, string> {
  const basic = basicHeader(creds);
  return basic ? { authorization: basic } : {};
}

function basicHeader(creds: Credentials | undefined): string | undefined {
  if (!creds || !("username" in creds)) return undefined;
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
}
