// The registry client: the distribution API over Bun's fetch with manual redirects (credentials are
// never sent to another host), auth challenges answered, and failures turned into KitErrors that
// say what to do. Loopback registries are spoken to over HTTP, others over HTTPS.
import { sha256 } from "../llb/digest.ts";
import { INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, MEDIA_DOCKER_SCHEMA1, MEDIA_DOCKER_SCHEMA1_SIGNED } from "../oci/media-types.ts";
import type { Digest } from "../oci/types.ts";
import { canceledError } from "../util/abort.ts";
import { KitError, errnoCode } from "../util/errors.ts";
import { Authenticator } from "./auth.ts";
import type { CredentialSource } from "./credentials.ts";
import { apiHost, formatReference, type Reference, usesPlainHttp } from "./reference.ts";

export type RegistryOptions = {
  insecureRegistries: readonly string[];
  credentials: CredentialSource;
  fetch?: typeof fetch;
};

export type FetchedManifest = { bytes: Uint8Array; mediaType: string; digest: Digest };

const MANIFEST_ACCEPT = [...MANIFEST_MEDIA_TYPES, ...INDEX_MEDIA_TYPES].join(", ");
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_REDIRECTS = 5;

type RequestInit = { method?: string; accept?: string; signal: AbortSignal };

export class RegistryClient {
  private readonly fetchFn: typeof fetch;
  private readonly auth: Authenticator;

  constructor(private readonly opts: RegistryOptions) {
    this.fetchFn = opts.fetch ?? fetch;
    this.auth = new Authenticator(opts.credentials, this.fetchFn);
  }

  /** Fetches a manifest or index by tag or digest; a digest reference is verified against the bytes. */
  async getManifest(ref: Reference, reference: string, signal: AbortSignal): Promise<FetchedManifest> {
    const res = await this.request(ref, `manifests/${reference}`, { accept: MANIFEST_ACCEPT, signal });
    if (!res.ok) throw await responseError(res, ref, "manifest");
    const declared = Number(res.headers.get("content-length") ?? "0");
    if (declared > MAX_MANIFEST_BYTES) throw tooLarge(ref, declared);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > MAX_MANIFEST_BYTES) throw tooLarge(ref, bytes.length);
    const digest = sha256(bytes);
    if (reference.startsWith("sha256:") && digest !== reference) {
      throw new KitError("E_REGISTRY_DIGEST_MISMATCH", `manifest of "${formatReference(ref)}" has digest "${digest}", not "${reference}"`, {
        hint: "the registry returned other content than requested; nothing was stored",
      });
    }
    const mediaType = manifestMediaType(bytes, res.headers.get("content-type"), ref);
    return { bytes, mediaType, digest };
  }

  /** Starts downloading a blob; the caller reads (and verifies) the body. */
  async getBlob(ref: Reference, digest: Digest, signal: AbortSignal): Promise<Response> {
    const res = await this.request(ref, `blobs/${digest}`, { signal });
    if (!res.ok) throw await responseError(res, ref, `blob "${digest}"`);
    return res;
  }

  private async request(ref: Reference, suffix: string, init: RequestInit): Promise<Response> {
    const scheme = usesPlainHttp(ref.domain, this.opts.insecureRegistries) ? "http" : "https";
    let url = new URL(`${scheme}://${apiHost(ref.domain)}/v2/${ref.path}/${suffix}`);
    const scope = `repository:${ref.path}:pull`;
    let authRetried = false;
    for (let hops = 0; hops <= MAX_REDIRECTS; ) {
      const sameHost = url.host === apiHost(ref.domain);
      const headers: Record<string, string> = {};
      if (init.accept) headers.accept = init.accept;
      const authorization = sameHost ? this.auth.header(ref.domain, scope) : undefined;
      if (authorization) headers.authorization = authorization;
      const res = await this.send(url, { method: init.method ?? "GET", headers, redirect: "manual", signal: init.signal }, ref);
      if (res.status === 401 && sameHost && !authRetried) {
        authRetried = true;
        await res.body?.cancel();
        if (await this.auth.challenge(ref.domain, scope, res.headers.get("www-authenticate"), init.signal)) continue;
        throw unauthorized(ref);
      }
      if (res.status >= 300 && res.status < 400 && res.headers.has("location")) {
        await res.body?.cancel();
        url = new URL(res.headers.get("location") as string, url);
        hops++;
        continue;
      }
      return res;
    }
    throw new KitError("E_REGISTRY_REDIRECTS", `too many redirects fetching from "${ref.domain}"`);
  }

  private async send(url: URL, init: globalThis.RequestInit, ref: Reference): Promise<Response> {
    try {
      return await this.fetchFn(url, init);
    } catch (e) {
      if (init.signal?.aborted) throw canceledError(init.signal);
      throw transportError(e, ref, url);
    }
  }
}

function manifestMediaType(bytes: Uint8Array, contentType: string | null, ref: Reference): string {
  let doc: { mediaType?: string; schemaVersion?: number; manifests?: unknown; config?: unknown };
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new KitError("E_REGISTRY_BAD_MANIFEST", `manifest of "${formatReference(ref)}" is not valid JSON`);
  }
  const ct = contentType?.split(";")[0]?.trim();
  if (doc.schemaVersion === 1 || ct === MEDIA_DOCKER_SCHEMA1 || ct === MEDIA_DOCKER_SCHEMA1_SIGNED) {
    throw new KitError("E_REGISTRY_SCHEMA1", `"${formatReference(ref)}" uses the Docker schema 1 manifest format`, {
      hint: "schema 1 was retired by docker; push the image again with a current docker or buildx",
    });
  }
  const mediaType = doc.mediaType ?? ct ?? (doc.manifests ? INDEX_MEDIA_TYPES[0] : MANIFEST_MEDIA_TYPES[0]);
  if (doc.mediaType && ct && ct !== doc.mediaType && ct !== "application/json") {
    throw new KitError("E_REGISTRY_BAD_MANIFEST", `manifest of "${formatReference(ref)}" is served as "${ct}" but declares "${doc.mediaType}"`);
  }
  if (![...INDEX_MEDIA_TYPES, ...MANIFEST_MEDIA_TYPES].includes(mediaType as string)) {
    throw new KitError("E_REGISTRY_BAD_MANIFEST", `"${formatReference(ref)}" has unsupported manifest type "${mediaType}"`);
  }
  return mediaType as string;
}

function tooLarge(ref: Reference, size: number): KitError {
  return new KitError("E_REGISTRY_BAD_MANIFEST", `manifest of "${formatReference(ref)}" is ${size} bytes, over the 4 MiB limit`);
}

function unauthorized(ref: Reference): KitError {
  return new KitError("E_REGISTRY_UNAUTHORIZED", `access to "${formatReference(ref)}" was denied`, {
    hint: `log in to ${ref.domain} (docker login ${ref.domain}) or check that the repository name is right`,
  });
}

async function responseError(res: Response, ref: Reference, what: string): Promise<KitError> {
  const codes = await errorCodes(res);
  const name = formatReference(ref);
  if (res.status === 401 || res.status === 403) return unauthorized(ref);
  if (res.status === 404) {
    if (codes.includes("NAME_UNKNOWN")) {
      return new KitError("E_REGISTRY_NAME_UNKNOWN", `repository "${ref.domain}/${ref.path}" does not exist`, {
        hint: "check the image name, or push the image first",
      });
    }
    return new KitError("E_REGISTRY_NOT_FOUND", `${what} of "${name}" was not found`, {
      hint: what === "manifest" ? "check the tag; `docker buildx imagetools inspect` lists what exists" : "the registry lost this blob; push the image again",
    });
  }
  return new KitError("E_REGISTRY_HTTP", `fetching ${what} of "${name}" failed: HTTP ${res.status}${codes.length ? ` (${codes.join(", ")})` : ""}`, {
    hint: res.status >= 500 ? "the registry had an internal error; try again later" : undefined,
  });
}

async function errorCodes(res: Response): Promise<string[]> {
  try {
    const body = (await res.json()) as { errors?: Array<{ code?: string }> };
    return (body.errors ?? []).map((e) => e.code ?? "").filter(Boolean);
  } catch {
    return [];
  }
}

function transportError(e: unknown, ref: Reference, url: URL): KitError {
  const code = errnoCode(e);
  if (code === "ECONNREFUSED") {
    return new KitError("E_REGISTRY_UNREACHABLE", `connection to "${url.host}" refused`, {
      cause: e,
      hint: `is the registry for "${ref.domain}" running and listening on that port?`,
    });
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return new KitError("E_REGISTRY_UNKNOWN_HOST", `unknown registry host "${url.hostname}"`, {
      cause: e,
      hint: "check the registry name in the image reference and your DNS settings",
    });
  }
  if (code === "EPROTO" || code === "ERR_SSL_WRONG_VERSION_NUMBER") {
    return new KitError("E_REGISTRY_TLS", `TLS handshake with "${url.host}" failed`, {
      cause: e,
      hint: `if this registry speaks plain HTTP, pass --insecure-registry ${ref.domain}`,
    });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new KitError("E_REGISTRY_UNREACHABLE", `request to "${url.host}" failed: ${message}`, { cause: e });
}
