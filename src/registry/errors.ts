// Registry failures turned into KitErrors that say what to do. Only status codes, the registry's
// error codes and hosts go into messages: never a header, a URL query or anything from credentials.
import { KitError, errnoCode } from "../util/errors.ts";
import { IdleTimeout, seconds } from "./idle-timeout.ts";
import { MAX_RETRY_AFTER_MS, retryAfterMs } from "./retry.ts";

/** What a request was about, for messages: `manifest of "reg/app:1"`, `login to "reg"`. */
export type Subject = { domain: string; what: string };

export function unauthorized(s: Subject, status: number): KitError {
  const verb = status === 403 ? "denied" : "not authorized";
  return new KitError("E_REGISTRY_UNAUTHORIZED", `${s.what}: access ${verb} (HTTP ${status})`, {
    hint: `log in with \`kitbuild login ${s.domain}\` (or docker login), or check the repository name and your permissions`,
  });
}

export async function responseError(res: Response, s: Subject): Promise<KitError> {
  const codes = await errorCodes(res);
  if (res.status === 401 || res.status === 403) return unauthorized(s, res.status);
  const suffix = codes.length ? ` (${codes.join(", ")})` : "";
  if (res.status === 404 && codes.includes("NAME_UNKNOWN")) return nameUnknown(s);
  if (res.status === 404) return new KitError("E_REGISTRY_NOT_FOUND", `${s.what}: not found${suffix}`);
  if (res.status === 429) return rateLimited(res, s);
  return new KitError("E_REGISTRY_HTTP", `${s.what}: HTTP ${res.status}${suffix}`, {
    hint: res.status >= 500 ? "the registry had an internal error; try again later" : undefined,
  });
}

function rateLimited(res: Response, s: Subject): KitError {
  const asked = retryAfterMs(res.headers.get("retry-after"));
  const wait = asked === undefined ? "" : asked > MAX_RETRY_AFTER_MS ? ` and asks to wait ${seconds(asked)}` : "";
  return new KitError("E_REGISTRY_RATE_LIMITED", `${s.what}: too many requests (HTTP 429)`, {
    hint: `the registry "${s.domain}" is rate limiting requests${wait}; try again later, or log in (\`kitbuild login ${s.domain}\`) for a higher limit`,
  });
}

export function nameUnknown(s: Subject): KitError {
  return new KitError("E_REGISTRY_NAME_UNKNOWN", `${s.what}: the repository does not exist`, {
    hint: "check the image name (and the registry host), or push the image first",
  });
}

export async function errorCodes(res: Response): Promise<string[]> {
  try {
    const body = (await res.json()) as { errors?: Array<{ code?: string }> };
    return (body.errors ?? []).map((e) => e.code ?? "").filter(Boolean);
  } catch {
    return [];
  }
}

/** A fetch that failed before any response: refused, unknown host, TLS spoken to plain HTTP, reset. */
export function transportError(e: unknown, domain: string, host: string): KitError {
  if (e instanceof IdleTimeout) {
    return new KitError("E_REGISTRY_TIMEOUT", `${e.phase === "headers" ? "no response" : "no data"} from "${host}" for ${seconds(e.ms)}`, {
      cause: e,
      hint: `the registry for "${domain}" stopped answering; try again later (KITBUILD_REGISTRY_IDLE_TIMEOUT sets how long to wait, in seconds)`,
    });
  }
  const code = errnoCode(e);
  if (code === "ECONNREFUSED") {
    return new KitError("E_REGISTRY_UNREACHABLE", `connection to "${host}" refused`, {
      cause: e,
      hint: `is the registry for "${domain}" running and listening on that port?`,
    });
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return new KitError("E_REGISTRY_UNKNOWN_HOST", `unknown registry host "${host.replace(/:\d+$/, "")}"`, {
      cause: e,
      hint: "check the registry name in the image reference and your DNS settings",
    });
  }
  if (code === "EPROTO" || code === "ERR_SSL_WRONG_VERSION_NUMBER" || code === "ERR_SSL_PACKET_LENGTH_TOO_LONG") {
    return new KitError("E_REGISTRY_TLS", `TLS handshake with "${host}" failed`, {
      cause: e,
      hint: `if this registry speaks plain HTTP, pass --insecure-registry ${domain}`,
    });
  }
  if (code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME_MISMATCH|ALTNAME/.test(code)) {
    return new KitError("E_REGISTRY_TLS", `the certificate of "${host}" is not trusted (${code})`, {
      cause: e,
      hint: `add the registry's CA to the system's trusted certificates, or push with -o type=registry,registry.insecure=true`,
    });
  }
  return new KitError("E_REGISTRY_UNREACHABLE", `request to "${host}" failed: ${code ?? "connection error"}`, { cause: e });
}
