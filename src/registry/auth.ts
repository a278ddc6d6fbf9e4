// Registry authentication: the Bearer token flow announced by WWW-Authenticate (anonymous or with
// credentials; tokens cached per host and scope until they expire) and Basic auth. Credentials
// stay in here: nothing they contain is put in an error message.
import { KitError } from "../util/errors.ts";
import type { CredentialSource, Credentials } from "./credentials.ts";

export type Challenge = { scheme: string; params: Record<string, string> };

export function parseChallenge(header: string): Challenge | undefined {
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

export class Authenticator {
  private readonly tokens = new Map<string, Token>();
  private readonly basic = new Set<string>();

  constructor(
    private readonly credentials: CredentialSource,
    private readonly fetchFn: typeof fetch,
  ) {}

  /** The Authorization header to send for this host and scope, if one is known. */
  header(domain: string, scope: string): string | undefined {
    const token = this.tokens.get(`${domain} ${scope}`);
    if (token && token.expires > Date.now()) return `Bearer ${token.value}`;
    if (this.basic.has(domain)) return basicHeader(this.credentials(domain));
    return undefined;
  }

  /** Answers a 401 challenge. Returns false when there is nothing more to try. */
  async challenge(domain: string, scope: string, wwwAuthenticate: string | null, signal: AbortSignal): Promise<boolean> {
    const ch = wwwAuthenticate ? parseChallenge(wwwAuthenticate) : undefined;
    const creds = this.credentials(domain);
    if (ch?.scheme === "basic") {
      if (!creds || this.basic.has(domain) || !("username" in creds)) return false;
      this.basic.add(domain);
      return true;
    }
    if (ch?.scheme !== "bearer" || !ch.params.realm) return false;
    const key = `${domain} ${scope}`;
    if (this.tokens.has(key) && (this.tokens.get(key) as Token).expires > Date.now()) return false;
    this.tokens.set(key, await this.fetchToken(ch.params, scope, creds, signal));
    return true;
  }

  private async fetchToken(params: Record<string, string>, scope: string, creds: Credentials | undefined, signal: AbortSignal): Promise<Token> {
    const realm = new URL(params.realm as string);
    const requested = params.scope ?? scope;
    let res: Response;
    if (creds && "identityToken" in creds) {
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: creds.identityToken, client_id: "kitbuild", scope: requested });
      if (params.service) form.set("service", params.service);
      res = await this.fetchFn(realm, { method: "POST", body: form, signal, redirect: "manual" });
    } else {
      if (params.service) realm.searchParams.set("service", params.service);
      if (requested) realm.searchParams.set("scope", requested);
      const headers: Record<string, string> = {};
      const basic = basicHeader(creds);
      if (basic) headers.authorization = basic;
      res = await this.fetchFn(realm, { headers, signal, redirect: "manual" });
    }
    if (res.status === 401 || res.status === 403) {
      throw new KitError("E_REGISTRY_UNAUTHORIZED", `the token service at "${realm.host}" refused the credentials`, {
        hint: "check the username and password or token in your docker config (docker login)",
      });
    }
    if (!res.ok) throw new KitError("E_REGISTRY_AUTH", `the token service at "${realm.host}" answered ${res.status}`);
    const body = (await res.json()) as { token?: string; access_token?: string; expires_in?: number };
    const value = body.token ?? body.access_token;
    if (!value) throw new KitError("E_REGISTRY_AUTH", `the token service at "${realm.host}" returned no token`);
    // Expire a little early so a token never runs out in the middle of a request.
    return { value, expires: Date.now() + Math.max(10, (body.expires_in ?? 60) - 5) * 1000 };
  }
}

function basicHeader(creds: Credentials | undefined): string | undefined {
  if (!creds || !("username" in creds)) return undefined;
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
}
