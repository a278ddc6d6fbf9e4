// Downloads a blob into the content store: streamed, hashed on the way, published only when its
// size and digest match. A blob already in the store is not fetched again. A transfer that drops or
// goes silent in the middle is resumed where it stopped with a Range request (or, when the registry
// ignores Range, by skipping what already arrived), with backoff between tries. Once the declared
// size has arrived nothing more is asked for (a Content-Length that promised more than the blob ends
// in a dropped connection, and a Range past the end in HTTP 416): the store checks the digest. A
// partial response that cannot be used (416, a range starting elsewhere) and bytes that fail the
// check start the blob again from byte 0, once. Every error names the registry, repository and digest.
import type { ContentStore, IngestListener } from "../content/store.ts";
import type { Descriptor, Digest } from "../oci/types.ts";
import { canceledError } from "../util/abort.ts";
import { KitError, isKitError } from "../util/errors.ts";
import { pullScope, type RegistryClient } from "./client.ts";
import { responseError, type Subject } from "./errors.ts";
import { IdleTimeout } from "./idle-timeout.ts";
import type { Reference } from "./reference.ts";
import { backoff, type RetryNotice } from "./retry.ts";

/** What a download reports: bytes so far, and why it waits before a retry. */
export type BlobEvents = {
  progress?: (current: number, total: number) => void;
  retry?: RetryNotice;
  /** Told where the bytes go as they arrive (each download from byte 0 starts it again). */
  ingest?: IngestListener;
};

/** Downloads from byte 0: the first, and one more after unusable or unverifiable bytes. */
const WHOLE_DOWNLOADS = 2;

/** Store errors that say the bytes were wrong (not that the disk failed): worth one fresh download. */
const BAD_BYTES = new Set(["E_CONTENT_DIGEST_MISMATCH", "E_CONTENT_SIZE_MISMATCH"]);

export async function fetchBlobToStore(
  client: RegistryClient,
  ref: Reference,
  desc: Descriptor,
  store: ContentStore,
  signal: AbortSignal,
  events: BlobEvents = {},
): Promise<void> {
  if (await store.has(desc.digest)) {
    events.progress?.(desc.size, desc.size);
    return;
  }
  const subject = blobSubject(ref, desc.digest);
  for (let download = 1; ; download++) {
    try {
      const body = resumableBody(client, ref, desc, subject, signal, events.retry);
      await store.write(body, { digest: desc.digest, size: desc.size }, signal, (n) => events.progress?.(n, desc.size), events.ingest);
      return;
    } catch (e) {
      const restart = e instanceof RestartFromZero || (isKitError(e) && BAD_BYTES.has(e.code));
      if (!restart || signal.aborted) throw signal.aborted ? canceledError(signal) : e;
      const error = e instanceof RestartFromZero ? e.error : namedError(e as KitError, subject);
      if (download >= WHOLE_DOWNLOADS) throw error;
      await backoff(client.retryPolicy, download, signal, events.retry, error.message);
    }
  }
}

const blobSubject = (ref: Reference, digest: Digest): Subject => ({ domain: ref.domain, what: `blob "${digest}" of "${ref.domain}/${ref.path}"` });

const UNUSABLE_HINT = "the registry (or a proxy in front of it) sent a partial response that does not fit the blob, twice; nothing was stored";

/** Thrown out of the body when what the registry sent cannot continue this download. */
class RestartFromZero extends Error {
  constructor(readonly error: KitError) {
    super(error.message);
  }
}

/** Starts a blob download at `offset`; the response is 206 when the registry honoured the Range. */
async function getBlob(client: RegistryClient, ref: Reference, digest: Digest, offset: number, signal: AbortSignal, onRetry?: RetryNotice): Promise<Response> {
  const subject = blobSubject(ref, digest);
  // identity: a transfer encoding would make the bytes received differ from the blob's.
  const headers: Record<string, string> = { "accept-encoding": "identity" };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  const res = await client.request(ref.domain, { target: `${ref.path}/blobs/${digest}`, scopes: [pullScope(ref)], headers, retry: true, subject, signal, onRetry });
  if (res.status === 416 && offset > 0) {
    await res.body?.cancel();
    throw new RestartFromZero(new KitError("E_REGISTRY_TRANSFER", `${subject.what}: the registry cannot resume at byte ${offset} (HTTP 416)`, { hint: UNUSABLE_HINT }));
  }
  if (!res.ok) throw await responseError(res, subject);
  if (!res.body) throw new KitError("E_REGISTRY_HTTP", `${subject.what}: the response has no body`);
  return res;
}

async function* resumableBody(client: RegistryClient, ref: Reference, desc: Descriptor, subject: Subject, signal: AbortSignal, onRetry?: RetryNotice): AsyncGenerator<Uint8Array> {
  let received = 0;
  for (let attempt = 1; ; attempt++) {
    const res = await getBlob(client, ref, desc.digest, received, signal, onRetry);
    if (res.status === 206) await checkRangeStart(res, received, subject);
    // Without a 206 the registry ignored the Range and sends everything again.
    let skip = res.status === 206 ? 0 : received;
    let broke: unknown;
    try {
      for await (const chunk of res.body as ReadableStream<Uint8Array>) {
        if (skip >= chunk.length) {
          skip -= chunk.length;
          continue;
        }
        const fresh = skip > 0 ? chunk.subarray(skip) : chunk;
        skip = 0;
        received += fresh.length;
        yield fresh;
      }
    } catch (e) {
      if (signal.aborted) throw canceledError(signal);
      if (isKitError(e)) throw e;
      broke = e;
    } finally {
      await res.body?.cancel().catch(() => {});
    }
    // All the declared bytes are here (whatever the connection did after them): the store checks them.
    if (received >= desc.size) return;
    // A body that ended early without an error (a Content-Length too short) is resumed like a drop.
    const why = brokeOff(subject, received, desc.size, broke);
    if (attempt >= client.retryPolicy.attempts) throw why;
    await backoff(client.retryPolicy, attempt, signal, onRetry, why.message);
  }
}

/** A 206 must start where we asked; anything else would splice the wrong bytes in, so start over. */
async function checkRangeStart(res: Response, wanted: number, subject: Subject): Promise<void> {
  const range = res.headers.get("content-range") ?? "";
  const m = /^bytes (\d+)-/.exec(range);
  if (m && Number(m[1]) === wanted) return;
  await res.body?.cancel().catch(() => {});
  throw new RestartFromZero(
    new KitError("E_REGISTRY_TRANSFER", `${subject.what}: the registry answered a request for bytes from ${wanted} with range "${range}"`, { hint: UNUSABLE_HINT }),
  );
}

function brokeOff(subject: Subject, received: number, size: number, cause: unknown): KitError {
  const how = cause instanceof IdleTimeout ? `stalled (${cause.message})` : cause === undefined ? "ended early" : "broke off";
  return new KitError("E_REGISTRY_TRANSFER", `${subject.what}: the download ${how} after ${received} of ${size} bytes`, {
    cause,
    hint: "the connection kept failing; check the network or the registry, then try again (nothing partial was stored)",
  });
}

/** A store error about the bytes, said of the blob and where it came from. */
function namedError(e: KitError, subject: Subject): KitError {
  return new KitError(e.code, `${subject.what}: ${e.message}`, {
    cause: e,
    hint: "the registry sent other bytes than the digest names, twice; nothing was stored. If it persists, the registry's copy is damaged: push the image again",
  });
}
