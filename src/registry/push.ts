// Pushing to a registry, for the image exporter: blob existence checks, cross-repository mounts,
// monolithic and chunked uploads, and the manifest PUT with its exact media type. Every digest the
// registry reports back is checked against what was sent. Blobs are given as Blobs (a file in the
// content store is `Bun.file(path)`), so a failed upload can be sent again from the start: after a
// server error or 429 (waiting for its Retry-After), a connection that dropped or went silent, or a
// registry that found the bytes it received damaged (DIGEST_INVALID).
import { sha256 } from "../llb/digest.ts";
import type { Descriptor, Digest } from "../oci/types.ts";
import { KitError } from "../util/errors.ts";
import { pushScope, type RegistryClient } from "./client.ts";
import { errorCodes, responseError, type Subject } from "./errors.ts";
import type { Reference } from "./reference.ts";
import { backoff, isRetryableStatus, isTransientTransportError, MAX_RETRY_AFTER_MS, retryAfterMs } from "./retry.ts";

export type PushBlobOptions = {
  /** Repositories of the same registry that may already hold the blob ("team/base"). */
  mountFrom?: readonly string[];
  /** Blobs larger than this go up in PATCH chunks of this size; smaller ones in one PUT. */
  chunkSize?: number;
};

export type PushedBlob = "exists" | "mounted" | "uploaded";

const DEFAULT_CHUNK_SIZE = 64 * 1024 * 1024;

const blobSubject = (ref: Reference, digest: Digest): Subject => ({ domain: ref.domain, what: `pushing blob "${digest}" to "${ref.domain}/${ref.path}"` });

/** Whether the repository already has the blob (HEAD). */
export async function blobExists(client: RegistryClient, ref: Reference, digest: Digest, signal: AbortSignal): Promise<boolean> {
  const subject = blobSubject(ref, digest);
  const res = await client.request(ref.domain, { method: "HEAD", target: `${ref.path}/blobs/${digest}`, scopes: [pushScope(ref)], retry: true, subject, signal });
  await res.body?.cancel();
  if (res.ok) return true;
  if (res.status === 404) return false;
  throw await responseError(res, subject);
}

/** Makes sure the repository has the blob: already there, mounted from another repository, or uploaded. */
export async function pushBlob(client: RegistryClient, ref: Reference, desc: Descriptor, data: Blob, opts: PushBlobOptions, signal: AbortSignal): Promise<PushedBlob> {
  if (data.size !== desc.size) throw new KitError("E_REGISTRY_PUSH", `blob "${desc.digest}" is ${data.size} bytes, but its descriptor says ${desc.size}`);
  if (await blobExists(client, ref, desc.digest, signal)) return "exists";
  for (const from of opts.mountFrom ?? []) {
    if (from === ref.path) continue;
    const started = await startUpload(client, ref, desc.digest, from, signal);
    if (started.kind === "mounted") return "mounted";
    // The registry could not mount it and opened an ordinary upload instead: use that one.
    await uploadWithRetries(client, ref, desc, data, opts.chunkSize ?? DEFAULT_CHUNK_SIZE, signal, started.location);
    return "uploaded";
  }
  await uploadWithRetries(client, ref, desc, data, opts.chunkSize ?? DEFAULT_CHUNK_SIZE, signal);
  return "uploaded";
}

type Started = { kind: "mounted" } | { kind: "upload"; location: URL };

async function startUpload(client: RegistryClient, ref: Reference, digest: Digest, mountFrom: string | undefined, signal: AbortSignal): Promise<Started> {
  const subject = blobSubject(ref, digest);
  const query = mountFrom ? `?mount=${digest}&from=${encodeURIComponent(mountFrom)}` : "";
  const scopes = mountFrom ? [pushScope(ref), `repository:${mountFrom}:pull`] : [pushScope(ref)];
  const res = await client.request(ref.domain, { method: "POST", target: `${ref.path}/blobs/uploads/${query}`, scopes, retry: true, subject, signal });
  await res.body?.cancel();
  if (res.status === 201 && mountFrom) return { kind: "mounted" };
  if (res.status !== 202) throw await responseError(res, subject);
  return { kind: "upload", location: uploadLocation(res, client.baseUrl(ref.domain), subject) };
}

async function uploadWithRetries(client: RegistryClient, ref: Reference, desc: Descriptor, data: Blob, chunkSize: number, signal: AbortSignal, first?: URL): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const location = attempt === 1 && first ? first : await startUpload(client, ref, desc.digest, undefined, signal).then((s) => (s as { location: URL }).location);
      await upload(client, ref, desc, data, chunkSize, location, signal);
      return;
    } catch (e) {
      if (!(e instanceof UploadInterrupted) || attempt >= client.retryPolicy.attempts) throw e instanceof UploadInterrupted ? e.error : e;
      await backoff(client.retryPolicy, attempt, signal, undefined, undefined, e.serverMs);
    }
  }
}

/** A server error, a broken connection or damaged bytes in the middle of an upload: the whole upload starts again. */
class UploadInterrupted extends Error {
  constructor(
    readonly error: KitError,
    /** How long the registry asked to wait (Retry-After). */
    readonly serverMs?: number,
    /** The registry no longer knows the upload session (BLOB_UPLOAD_UNKNOWN). */
    readonly sessionGone = false,
  ) {
    super(error.message);
  }
}

/** Why an upload request's answer (or its failure) means starting the upload again, if it does. */
async function interruption(res: Response, subject: Subject): Promise<UploadInterrupted | undefined> {
  if (isRetryableStatus(res.status)) {
    const serverMs = retryAfterMs(res.headers.get("retry-after"));
    const error = await responseError(res, subject);
    return serverMs !== undefined && serverMs > MAX_RETRY_AFTER_MS ? undefined : new UploadInterrupted(error, serverMs);
  }
  if (res.status !== 400 && res.status !== 404) return undefined;
  const codes = await errorCodes(res.clone() as Response);
  if (res.status === 404) return codes.includes("BLOB_UPLOAD_UNKNOWN") ? new UploadInterrupted(await responseError(res, subject), undefined, true) : undefined;
  return codes.includes("DIGEST_INVALID") ? new UploadInterrupted(await responseError(res, subject)) : undefined;
}

async function upload(client: RegistryClient, ref: Reference, desc: Descriptor, data: Blob, chunkSize: number, location: URL, signal: AbortSignal): Promise<void> {
  const subject = blobSubject(ref, desc.digest);
  const send = async (method: "PATCH" | "PUT", url: URL, body: Blob | undefined, headers: Record<string, string>) => {
    let res: Response;
    try {
      res = await client.request(ref.domain, { method, target: url, scopes: [pushScope(ref)], headers, body, retry: false, subject, signal });
    } catch (e) {
      if (e instanceof KitError && isTransientTransportError(e.cause) && !signal.aborted) throw new UploadInterrupted(e);
      throw e;
    }
    const interrupted = await interruption(res, subject);
    if (interrupted) throw interrupted;
    return res;
  };
  let url = location;
  let finalBody: Blob | undefined = data;
  if (data.size > chunkSize) {
    for (let start = 0; start < data.size; start += chunkSize) {
      const end = Math.min(start + chunkSize, data.size);
      const res = await send("PATCH", url, data.slice(start, end), { "content-type": "application/octet-stream", "content-range": `${start}-${end - 1}` });
      await res.body?.cancel();
      if (res.status !== 202) throw await responseError(res, subject);
      url = uploadLocation(res, url, subject);
    }
    finalBody = undefined;
  }
  const put = new URL(url);
  put.searchParams.set("digest", desc.digest);
  const headers: Record<string, string> = { "content-type": "application/octet-stream" };
  let res: Response;
  try {
    res = await send("PUT", put, finalBody, headers);
  } catch (e) {
    // A PUT that completed the upload but whose answer was lost on a dropped connection (Bun's fetch
    // sends it again on a reused connection, which finds the session closed): the blob is there.
    if (e instanceof UploadInterrupted && e.sessionGone && (await blobExists(client, ref, desc.digest, signal))) return;
    throw e;
  }
  if (res.status !== 201) throw await responseError(res, subject);
  await res.body?.cancel();
  checkReturnedDigest(res, desc.digest, subject);
}

function uploadLocation(res: Response, base: URL, subject: Subject): URL {
  const location = res.headers.get("location");
  if (!location) throw new KitError("E_REGISTRY_PUSH", `${subject.what}: the registry gave no upload location`);
  return new URL(location, base);
}

function checkReturnedDigest(res: Response, expected: Digest, subject: Subject): void {
  const returned = res.headers.get("docker-content-digest");
  if (returned && returned !== expected) {
    throw new KitError("E_REGISTRY_DIGEST_MISMATCH", `${subject.what}: the registry stored digest "${returned}", not "${expected}"`, {
      hint: "the data changed on the way to the registry; push again",
    });
  }
}

/**
 * PUTs a manifest or index under a tag or its digest, with its exact media type as Content-Type.
 * Returns the digest, checked against the one the registry reports.
 */
export async function putManifest(client: RegistryClient, ref: Reference, reference: string, bytes: Uint8Array, mediaType: string, signal: AbortSignal): Promise<Digest> {
  const digest = sha256(bytes);
  const subject: Subject = { domain: ref.domain, what: `pushing manifest "${ref.domain}/${ref.path}${reference.startsWith("sha256:") ? "@" : ":"}${reference}"` };
  if (reference.startsWith("sha256:") && reference !== digest) {
    throw new KitError("E_REGISTRY_PUSH", `${subject.what}: the manifest's digest is "${digest}"`);
  }
  const res = await client.request(ref.domain, {
    method: "PUT",
    target: `${ref.path}/manifests/${reference}`,
    scopes: [pushScope(ref)],
    headers: { "content-type": mediaType },
    body: bytes,
    retry: true,
    subject,
    signal,
  });
  if (res.status !== 201) throw await responseError(res, subject);
  await res.body?.cancel();
  checkReturnedDigest(res, digest, subject);
  return digest;
}
