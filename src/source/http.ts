// ADD <url>: downloading a file as BuildKit's http source does. The body is hashed while it is
// stored (the content store checks a --checksum before publishing anything); the file is then
// written into a snapshot as `filename` (the op's, else the Content-Disposition's, else the URL's
// last path component, else "download") with mode 0600 (or the op's) and the Last-Modified time.
import { chmodSync, copyFileSync, lchownSync } from "node:fs";
import { posix } from "node:path";
import type { ContentStore } from "../content/store.ts";
import type { SourceOp } from "../llb/ops.ts";
import type { Digest } from "../oci/types.ts";
import { canceledError } from "../util/abort.ts";
import { KitError, isKitError } from "../util/errors.ts";
import { lutimesNs } from "../fs/libc.ts";
import type { VertexProgress } from "../util/progress.ts";
import { SpaceGuard } from "../archive/space-guard.ts";
import { withoutCredentials } from "../util/urls.ts";

export type HttpSource = { url: string; checksum?: string; filename?: string; perm: number; uid: number; gid: number };

const CHECKSUM = /^(sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128})$/;

export type Download = { url: string; digest: Digest; size: number; filename: string; lastModified?: Date };

export function parseHttpSource(op: SourceOp): HttpSource {
  const a = op.attrs;
  const checksum = a.checksum ?? a["http.checksum"];
  if (checksum !== undefined && !CHECKSUM.test(checksum)) {
    throw new KitError("E_SOURCE_CHECKSUM", `invalid checksum "${checksum}" for "${op.identifier}"`, { hint: "give it as sha256:<64 hex digits> (or sha384:, sha512:)" });
  }
  const perm = a.chmod ?? a["http.perm"];
  return {
    url: op.identifier,
    checksum,
    filename: a.filename ?? a["http.filename"],
    perm: perm === undefined ? 0o600 : Number.parseInt(perm, 8),
    uid: Number(a["http.uid"] ?? 0),
    gid: Number(a["http.gid"] ?? 0),
  };
}

/** Downloads `src.url` into the store; a --checksum that does not match stores nothing and fails. */
export async function download(src: HttpSource, store: ContentStore, progress: VertexProgress, signal: AbortSignal): Promise<Download> {
  let res: Response;
  try {
    res = await fetch(src.url, { signal, redirect: "follow" });
  } catch (e) {
    if (signal.aborted) throw canceledError(signal);
    throw new KitError("E_SOURCE_HTTP", `failed to download "${withoutCredentials(src.url)}": ${e instanceof Error ? e.message : String(e)}`, { cause: e, hint: "check the URL and that this machine can reach it" });
  }
  if (!res.ok || !res.body) {
    throw new KitError("E_SOURCE_HTTP", `failed to download "${withoutCredentials(src.url)}": ${res.status} ${res.statusText}`.trim(), { hint: "check the URL" });
  }
  const total = Number(res.headers.get("content-length") ?? "") || undefined;
  const guard = new SpaceGuard(store.root, `the download of "${withoutCredentials(src.url)}"`);
  let size = 0;
  // The store checks a sha256 itself, before it publishes anything; the file is hashed here too
  // (in the checksum's algorithm) to say what it was.
  const [algo = "", expectedHex = ""] = src.checksum?.split(":") ?? [];
  const hasher = algo !== "" ? new Bun.CryptoHasher(algo as "sha256" | "sha384" | "sha512") : undefined;
  const chunks = guarded(res.body, guard, (chunk) => {
    size += chunk.length;
    hasher?.update(chunk);
  });
  let digest: Digest;
  try {
    digest = await store.write(chunks, algo === "sha256" ? { digest: src.checksum as Digest } : {}, signal, (n) => progress.status(withoutCredentials(src.url), n, total));
  } catch (e) {
    if (isKitError(e) && e.code === "E_CONTENT_DIGEST_MISMATCH") throw checksumMismatch(src, `${algo}:${hasher?.digest("hex")}`);
    throw e;
  }
  const got = hasher?.digest("hex");
  if (got !== undefined && got !== expectedHex) {
    await store.delete(digest);
    throw checksumMismatch(src, `${algo}:${got}`);
  }
  progress.statusDone(withoutCredentials(src.url), size, size);
  const modified = res.headers.get("last-modified");
  const lastModified = modified && !Number.isNaN(Date.parse(modified)) ? new Date(modified) : undefined;
  return { url: src.url, digest, size, filename: fileName(src, res), lastModified };
}


async function* guarded(body: ReadableStream<Uint8Array>, guard: SpaceGuard, seen: (chunk: Uint8Array) => void): AsyncIterable<Uint8Array> {
  for await (const chunk of body) {
    guard.addBytes(chunk.length);
    seen(chunk);
    yield chunk;
  }
}

function checksumMismatch(src: HttpSource, got: string): KitError {
  return new KitError("E_SOURCE_CHECKSUM", `checksum mismatch for "${withoutCredentials(src.url)}": got "${got}", expected "${src.checksum}"`, {
    hint: "the file changed on the server, or the --checksum is wrong; nothing was kept",
  });
}

/** Writes the downloaded file into `dir` (the root of a fresh snapshot). */
export function writeDownload(dl: Download, src: HttpSource, blobPath: string, dir: string): void {
  const path = `${dir}/${dl.filename}`;
  copyFileSync(blobPath, path);
  if (src.uid !== 0 || src.gid !== 0) lchownSync(path, src.uid, src.gid);
  chmodSync(path, src.perm);
  const mtime = BigInt(dl.lastModified?.getTime() ?? 0) * 1_000_000n;
  lutimesNs(path, mtime, mtime);
}

function fileName(src: HttpSource, res: Response): string {
  if (src.filename) return safeFileName(src.filename);
  const disposition = /filename="?([^";]+)"?/i.exec(res.headers.get("content-disposition") ?? "")?.[1];
  if (disposition && !disposition.endsWith("/")) return safeFileName(disposition);
  return safeFileName(posix.basename(new URL(src.url).pathname));
}

/** The last path component, or "download" when there is none usable (BuildKit's rule). */
export function safeFileName(name: string): string {
  const base = posix.basename(name.trim());
  if (base === "" || base === "." || base === ".." || base === "/" || /\p{Cc}/u.test(base)) return "download";
  return base;
}
