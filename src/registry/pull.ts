// Downloads a blob into the content store: streamed, hashed on the way, published only when its
// size and digest match. A blob already in the store is not fetched again. A transfer that drops in
// the middle is resumed where it stopped with a Range request (or, when the registry ignores Range,
// by skipping what already arrived), with backoff between tries.
import type { ContentStore } from "../content/store.ts";
import type { Descriptor, Digest } from "../oci/types.ts";
import { canceledError } from "../util/abort.ts";
import { KitError } from "../util/errors.ts";
import { pullScope, type RegistryClient } from "./client.ts";
import { responseError, type Subject } from "./errors.ts";
import type { Reference } from "./reference.ts";
import { backoff, type RetryNotice } from "./retry.ts";

/** What a download reports: bytes so far, and why it waits before a retry. */
export type BlobEvents = {
  progress?: (current: number, total: number) => void;
  retry?: RetryNotice;
};

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
  const body = resumableBody(client, ref, desc.digest, signal, events.retry);
  await store.write(body, { digest: desc.digest, size: desc.size }, signal, (n) => events.progress?.(n, desc.size));
}

/** Starts a blob download at `offset`; the response is 206 when the registry honoured the Range. */
async function getBlob(client: RegistryClient, ref: Reference, digest: Digest, offset: number, signal: AbortSignal, onRetry?: RetryNotice): Promise<Response> {
  const subject: Subject = { domain: ref.domain, what: `blob "${digest}" of "${ref.domain}/${ref.path}"` };
  // identity: a transfer encoding would make the bytes received differ from the blob's.
  const headers: Record<string, string> = { "accept-encoding": "identity" };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  const res = await client.request(ref.domain, { target: `${ref.path}/blobs/${digest}`, scopes: [pullScope(ref)], headers, retry: true, subject, signal, onRetry });
  if (!res.ok) throw await responseError(res, subject);
  if (!res.body) throw new KitError("E_REGISTRY_HTTP", `${subject.what}: the response has no body`);
  return res;
}

async function* resumableBody(client: RegistryClient, ref: Reference, digest: Digest, signal: AbortSignal, onRetry?: RetryNotice): AsyncGenerator<Uint8Array> {
  let received = 0;
  for (let attempt = 1; ; attempt++) {
    const res = await getBlob(client, ref, digest, received, signal, onRetry);
    if (res.status === 206) checkRangeStart(res, received);
    // Without a 206 the registry ignored the Range and sends everything again.
    let skip = res.status === 206 ? 0 : received;
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
      return;
    } catch (e) {
      if (signal.aborted) throw canceledError(signal);
      if (e instanceof KitError || attempt >= client.retryPolicy.attempts) throw droppedTransfer(digest, ref, received, e);
    } finally {
      await res.body?.cancel().catch(() => {});
    }
    await backoff(client.retryPolicy, attempt, signal, onRetry, `download of blob "${digest}" broke off after ${received} bytes`);
  }
}

/** A 206 must start where we asked; anything else would splice the wrong bytes in. */
function checkRangeStart(res: Response, wanted: number): void {
  const m = /^bytes (\d+)-/.exec(res.headers.get("content-range") ?? "");
  if (!m || Number(m[1]) !== wanted) {
    throw new KitError("E_REGISTRY_HTTP", `the registry answered a request for bytes from ${wanted} with range "${res.headers.get("content-range") ?? ""}"`);
  }
}

function droppedTransfer(digest: Digest, ref: Reference, received: number, cause: unknown): KitError {
  if (cause instanceof KitError) return cause;
  return new KitError("E_REGISTRY_TRANSFER", `download of blob "${digest}" from "${ref.domain}" broke off after ${received} bytes`, {
    cause,
    hint: "the connection kept dropping; check the network or the registry, then try again (nothing partial was stored)",
  });
}
