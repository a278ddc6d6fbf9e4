// Fetching manifests and indexes: the full Accept list, a size cap, the Content-Type checked against
// the document's own mediaType, schema 1 refused, and a digest reference verified against the bytes.
// A 404 is told apart: a repository that does not exist, or a tag it does not have.
import { sha256 } from "../llb/digest.ts";
import { INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, MEDIA_DOCKER_SCHEMA1, MEDIA_DOCKER_SCHEMA1_SIGNED } from "../oci/media-types.ts";
import type { Digest } from "../oci/types.ts";
import { canceledError } from "../util/abort.ts";
import { KitError } from "../util/errors.ts";
import { pullScope, type RegistryClient } from "./client.ts";
import { errorCodes, nameUnknown, responseError, type Subject } from "./errors.ts";
import { IdleTimeout } from "./idle-timeout.ts";
import type { Reference } from "./reference.ts";
import { backoff } from "./retry.ts";

export type FetchedManifest = { bytes: Uint8Array; mediaType: string; digest: Digest };

const MANIFEST_ACCEPT = [...MANIFEST_MEDIA_TYPES, ...INDEX_MEDIA_TYPES].join(", ");
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * Fetches a manifest or index by tag or digest. A body that drops or stalls, and content that fails
 * its digest (so was damaged on the way), are fetched again within the retry policy.
 */
export async function getManifest(client: RegistryClient, ref: Reference, reference: string, signal: AbortSignal): Promise<FetchedManifest> {
  const subject: Subject = { domain: ref.domain, what: `manifest of "${ref.domain}/${ref.path}${reference.startsWith("sha256:") ? "@" : ":"}${reference}"` };
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetchOnce(client, ref, reference, subject, signal);
    } catch (e) {
      if (signal.aborted) throw canceledError(signal);
      const retryable = e instanceof KitError ? e.code === "E_REGISTRY_DIGEST_MISMATCH" : true;
      const error = e instanceof KitError ? e : bodyError(subject, e);
      if (!retryable || attempt >= client.retryPolicy.attempts) throw error;
      await backoff(client.retryPolicy, attempt, signal, undefined, error.message);
    }
  }
}

/** One request; errors other than KitErrors come from reading the body. */
async function fetchOnce(client: RegistryClient, ref: Reference, reference: string, subject: Subject, signal: AbortSignal): Promise<FetchedManifest> {
  const res = await client.request(ref.domain, {
    target: `${ref.path}/manifests/${reference}`,
    scopes: [pullScope(ref)],
    headers: { accept: MANIFEST_ACCEPT },
    retry: true,
    subject,
    signal,
  });
  if (res.status === 404) throw await manifestNotFound(client, ref, reference, res, subject, signal);
  if (!res.ok) throw await responseError(res, subject);
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > MAX_MANIFEST_BYTES) {
    await res.body?.cancel();
    throw tooLarge(subject, declared);
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length > MAX_MANIFEST_BYTES) throw tooLarge(subject, bytes.length);
  const digest = sha256(bytes);
  // By tag, the registry's Docker-Content-Digest header is what the content must hash to.
  const expected = reference.startsWith("sha256:") ? reference : res.headers.get("docker-content-digest");
  if (expected && digest !== expected) {
    throw new KitError("E_REGISTRY_DIGEST_MISMATCH", `${subject.what}: expected digest "${expected}", the registry sent content with digest "${digest}"`, {
      hint: "the registry returned other content than requested; nothing was stored",
    });
  }
  const mediaType = manifestMediaType(bytes, res.headers.get("content-type"), subject, digest);
  return { bytes, mediaType, digest };
}

function bodyError(subject: Subject, cause: unknown): KitError {
  const how = cause instanceof IdleTimeout ? `stalled (${cause.message})` : "broke off";
  return new KitError("E_REGISTRY_TRANSFER", `${subject.what}: the download ${how}`, {
    cause,
    hint: "the connection kept failing; check the network or the registry, then try again",
  });
}

async function manifestNotFound(client: RegistryClient, ref: Reference, reference: string, res: Response, subject: Subject, signal: AbortSignal): Promise<KitError> {
  const codes = await errorCodes(res);
  if (codes.includes("NAME_UNKNOWN")) return nameUnknown(subject);
  // docker-registry answers MANIFEST_UNKNOWN for unknown repositories too; its tag list tells.
  const tags = await client.request(ref.domain, { target: `${ref.path}/tags/list?n=20`, scopes: [pullScope(ref)], retry: true, subject, signal });
  if (tags.status === 404) {
    await tags.body?.cancel();
    return nameUnknown(subject);
  }
  const known = tags.ok ? (((await tags.json().catch(() => ({}))) as { tags?: string[] }).tags ?? []) : (await tags.body?.cancel(), []);
  const what = reference.startsWith("sha256:") ? `digest "${reference}"` : `tag "${reference}"`;
  return new KitError("E_REGISTRY_MANIFEST_UNKNOWN", `${what} not found in "${ref.domain}/${ref.path}"`, {
    hint: known.length ? `the repository has: ${known.slice(0, 10).join(", ")}${known.length > 10 ? ", …" : ""}` : "check the tag, or push the image first",
  });
}

function manifestMediaType(bytes: Uint8Array, contentType: string | null, subject: Subject, digest: Digest): string {
  let doc: { mediaType?: string; schemaVersion?: number; manifests?: unknown; config?: unknown };
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new KitError("E_REGISTRY_BAD_MANIFEST", `${subject.what} (digest "${digest}") is not valid JSON`, {
      hint: "the registry holds something else than an image manifest under that name; push the image again",
    });
  }
  const ct = contentType?.split(";")[0]?.trim();
  if (doc.schemaVersion === 1 || ct === MEDIA_DOCKER_SCHEMA1 || ct === MEDIA_DOCKER_SCHEMA1_SIGNED) {
    throw new KitError("E_REGISTRY_SCHEMA1", `${subject.what} uses the Docker schema 1 manifest format`, {
      hint: "schema 1 was retired by docker; push the image again with a current docker or buildx",
    });
  }
  const mediaType = doc.mediaType ?? (ct && ct !== "application/json" ? ct : undefined) ?? (doc.manifests ? INDEX_MEDIA_TYPES[0] : MANIFEST_MEDIA_TYPES[0]);
  if (doc.mediaType && ct && ct !== doc.mediaType && ct !== "application/json") {
    throw new KitError("E_REGISTRY_BAD_MANIFEST", `${subject.what} is served as "${ct}" but declares "${doc.mediaType}"`, {
      hint: "the registry or a proxy in front of it rewrote the Content-Type; report it to the registry's operator",
    });
  }
  if (![...INDEX_MEDIA_TYPES, ...MANIFEST_MEDIA_TYPES].includes(mediaType as string)) {
    throw new KitError("E_REGISTRY_BAD_MANIFEST", `${subject.what} has unsupported manifest type "${mediaType}"`);
  }
  return mediaType as string;
}

function tooLarge(s: Subject, size: number): KitError {
  return new KitError("E_REGISTRY_BAD_MANIFEST", `${s.what}: ${size} bytes is over the 4 MiB limit for manifests`);
}
