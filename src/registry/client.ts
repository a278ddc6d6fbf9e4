// The registry client: the distribution API over Bun's fetch with manual redirects (credentials are
// only sent to the registry's own host, never to where it redirects), auth challenges answered,
// server errors, dropped and silent connections retried with backoff (or after the server's
// Retry-After), and failures turned into KitErrors that say what to do. Loopback registries are spoken to over HTTP, others over HTTPS.
import { canceledError } from "../util/abort.ts";
import { KitError } from "../util/errors.ts";
import { Authenticator } from "./auth.ts";
import type { CredentialSource } from "./credentials.ts";
import { type Subject, transportError, unauthorized } from "./errors.ts";
import { DEFAULT_IDLE_TIMEOUT_MS, IdleWatch } from "./idle-timeout.ts";
import { apiHost, type Reference, usesPlainHttp } from "./reference.ts";
import {
  backoff,
  DEFAULT_RETRY,
  isRetryableStatus,
  isTransientTransportError,
  MAX_RETRY_AFTER_MS,
  retryAfterMs,
  type RetryNotice,
  type RetryPolicy,
} from "./retry.ts";

export type RegistryOptions = {
  insecureRegistries: readonly string[];
  credentials: CredentialSource;
  fetch?: typeof fetch;
  retry?: RetryPolicy;
  /** Give up on a connection after this long without response headers or body bytes (0: never). */
  idleTimeoutMs?: number;
  /** Ask token services for a refresh token (what `login` stores). */
  offlineToken?: boolean;
};

export type RegistryRequest = {
  method?: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** A path under /v2/ ("app/manifests/v1"), or an absolute URL the registry gave (upload locations). */
  target: string | URL;
  /** Token scopes the request needs ("repository:app:pull"). */
  scopes: readonly string[];
  headers?: Record<string, string>;
  /** Blobs can be sent again, so a request with one survives an auth challenge or a retry. */
  body?: Blob | Uint8Array | string;
  /** Whether a server error or a dropped connection may be retried (the request is idempotent). */
  retry: boolean;
  subject: Subject;
  signal: AbortSignal;
  onRetry?: RetryNotice;
};

const MAX_REDIRECTS = 5;

export class RegistryClient {
  readonly retryPolicy: RetryPolicy;
  readonly idleTimeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly auth: Authenticator;
  /** Registries an output marked `registry.insecure`: HTTPS without certificate checks, plain HTTP when they speak no TLS. */
  private readonly unverified = new Set<string>();
  private readonly plainHttp = new Set<string>();

  constructor(private readonly opts: RegistryOptions) {
    this.fetchFn = opts.fetch ?? fetch;
    this.retryPolicy = opts.retry ?? DEFAULT_RETRY;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.auth = new Authenticator({ credentials: opts.credentials, fetch: this.fetchFn, offlineToken: opts.offlineToken, idleTimeoutMs: this.idleTimeoutMs });
  }

  /** The refresh token a token service handed out for this host during this client's requests. */
  refreshToken(domain: string): string | undefined {
    return this.auth.refreshTokens.get(domain);
  }

  /** BuildKit's `registry.insecure=true` for one registry, from now on in this client. */
  allowInsecure(domain: string): void {
    this.unverified.add(domain);
  }

  baseUrl(domain: string): URL {
    const scheme = usesPlainHttp(domain, this.opts.insecureRegistries) || this.plainHttp.has(domain) ? "http" : "https";
    return new URL(`${scheme}://${apiHost(domain)}/v2/`);
  }

  /**
   * Sends one request: answers one auth challenge, follows redirects of GET and HEAD (without
   * credentials when they leave the registry's host) and retries what `retry` allows. Returns the
   * final response whatever its status (also a 429 or 503 whose Retry-After is beyond the cap); the
   * caller reads or cancels its body, which is given up on when it goes silent (IdleTimeout).
   */
  async request(domain: string, req: RegistryRequest): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await this.attempt(domain, req);
      } catch (e) {
        if (!(e instanceof KitError && isTransientTransportError(e.cause))) throw e;
        // Said of what was asked for: the repository and digest, not only the host.
        if (!req.retry || attempt >= this.retryPolicy.attempts) throw new KitError(e.code, `${req.subject.what}: ${e.message}`, { cause: e.cause, hint: e.hint });
        await backoff(this.retryPolicy, attempt, req.signal, req.onRetry, `${req.subject.what}: ${e.message}`);
        continue;
      }
      if (!req.retry || attempt >= this.retryPolicy.attempts || !isRetryableStatus(res.status)) return res;
      const serverMs = retryAfterMs(res.headers.get("retry-after"));
      if (serverMs !== undefined && serverMs > MAX_RETRY_AFTER_MS) return res;
      await res.body?.cancel();
      await backoff(this.retryPolicy, attempt, req.signal, req.onRetry, `${req.subject.what}: HTTP ${res.status}`, serverMs);
    }
  }

  private async attempt(domain: string, req: RegistryRequest): Promise<Response> {
    const home = this.baseUrl(domain);
    let url = typeof req.target === "string" ? new URL(req.target, home) : req.target;
    const method = req.method ?? "GET";
    let challenged = false;
    for (let hops = 0; hops <= MAX_REDIRECTS; ) {
      const headers: Record<string, string> = { ...req.headers };
      const sameHost = url.host === home.host;
      const authorization = sameHost ? await this.auth.header(domain, req.scopes, req.signal) : undefined;
      if (authorization) headers.authorization = authorization;
      const res = await this.send(url, { method, headers, body: req.body, redirect: "manual", signal: req.signal }, domain);
      if (res.status === 401 && sameHost && !challenged) {
        challenged = true;
        await res.body?.cancel();
        if (await this.auth.challenge(domain, req.scopes, res.headers.get("www-authenticate"), req.signal)) continue;
        throw unauthorized(req.subject, 401);
      }
      const location = res.headers.get("location");
      if ((method === "GET" || method === "HEAD") && res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        url = new URL(location, url);
        hops++;
        continue;
      }
      return res;
    }
    throw new KitError("E_REGISTRY_REDIRECTS", `${req.subject.what}: more than ${MAX_REDIRECTS} redirects`);
  }

  private async send(url: URL, init: RequestInit & { signal: AbortSignal }, domain: string): Promise<Response> {
    const body = init.body;
    const uploadBytes = body instanceof Blob ? body.size : body instanceof Uint8Array ? body.length : typeof body === "string" ? body.length : 0;
    const watch = new IdleWatch(this.idleTimeoutMs, init.signal, uploadBytes);
    const insecure = this.unverified.has(domain) && url.protocol === "https:";
    try {
      return watch.watch(await this.fetchFn(url, { ...init, signal: watch.signal, ...(insecure ? { tls: { rejectUnauthorized: false } } : {}) }));
    } catch (e) {
      watch.stop();
      if (init.signal.aborted) throw canceledError(init.signal);
      if (insecure && speaksNoTls(e)) {
        // As BuildKit's insecure registries: a server without TLS is spoken to over plain HTTP.
        this.plainHttp.add(domain);
        const plain = new URL(url);
        plain.protocol = "http:";
        return this.send(plain, init, domain);
      }
      throw transportError(watch.fired ?? e, domain, url.host);
    }
  }
}

function speaksNoTls(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "EPROTO" || code === "ERR_SSL_WRONG_VERSION_NUMBER" || code === "ERR_SSL_PACKET_LENGTH_TOO_LONG";
}

export function pullScope(ref: Reference): string {
  return `repository:${ref.path}:pull`;
}

export function pushScope(ref: Reference): string {
  return `repository:${ref.path}:pull,push`;
}
