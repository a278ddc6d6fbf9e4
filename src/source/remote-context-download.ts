// The bytes of a URL or stdin build context written to a file and hashed on the way (the sha256
// names what was received in the progress output). Credentials in a URL are sent as basic auth and
// never appear in a message.
import { createWriteStream } from "node:fs";
import { stream, streamPromises } from "../util/lazy-modules.ts";
import { canceledError } from "../util/abort.ts";
import { KitError, isKitError } from "../util/errors.ts";
import type { VertexProgress } from "../util/progress.ts";
import { withoutCredentials } from "../util/urls.ts";

export type ContextBytes = { url: string } | { stream: AsyncIterable<Uint8Array> };

/** Writes the URL's body (or the stream) to `file`; returns its sha256 digest. */
export async function downloadToFile(from: ContextBytes, file: string, progress: VertexProgress, signal: AbortSignal): Promise<string> {
  const what = "url" in from ? withoutCredentials(from.url) : "stdin";
  const { body, total } = "url" in from ? await get(from.url, signal) : { body: from.stream, total: undefined };
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  async function* counted(): AsyncIterable<Uint8Array> {
    for await (const chunk of body) {
      size += chunk.length;
      hasher.update(chunk);
      progress.status(what, size, total);
      yield chunk;
    }
  }
  try {
    await streamPromises().pipeline(stream().Readable.from(counted()), createWriteStream(file), { signal });
  } catch (e) {
    if (signal.aborted) throw canceledError(signal);
    if (isKitError(e)) throw e;
    throw new KitError("E_CONTEXT_FETCH", `failed to read the build context from ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  progress.statusDone(what, size, size);
  return `sha256:${hasher.digest("hex")}`;
}

async function get(url: string, signal: AbortSignal): Promise<{ body: AsyncIterable<Uint8Array>; total: number | undefined }> {
  const shown = withoutCredentials(url);
  const { bare, authorization } = splitCredentials(url);
  let res: Response;
  try {
    res = await fetch(bare, { signal, redirect: "follow", headers: authorization ? { authorization } : {} });
  } catch (e) {
    if (signal.aborted) throw canceledError(signal);
    const reason = e instanceof Error ? e.message.replaceAll(bare, shown) : String(e);
    throw new KitError("E_CONTEXT_FETCH", `failed to fetch the build context "${shown}": ${reason}`, { cause: e, hint: "check the URL and that this machine can reach it" });
  }
  if (!res.ok || !res.body) {
    throw new KitError("E_CONTEXT_FETCH", `failed to fetch the build context "${shown}": ${res.status} ${res.statusText}`.trim(), { hint: "check the URL" });
  }
  return { body: res.body, total: Number(res.headers.get("content-length") ?? "") || undefined };
}

function splitCredentials(url: string): { bare: string; authorization: string | undefined } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KitError("E_CONTEXT_FETCH", `invalid build context URL "${withoutCredentials(url)}"`, { hint: "give an http:// or https:// address" });
  }
  if (parsed.username === "" && parsed.password === "") return { bare: url, authorization: undefined };
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  parsed.username = "";
  parsed.password = "";
  return { bare: parsed.toString(), authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}` };
}

