// Applies an OCI/Docker layer (a tar blob: gzip, zstd or uncompressed) onto a directory holding the
// layers below it (a whole tree, or a mounted overlay), hashing the uncompressed bytes on the way:
// that digest is the layer's DiffID. The extraction rules (in-root resolution, whiteouts) are in
// archive/tar-extract.ts.
import { createReadStream } from "node:fs";
import { Transform, type Readable } from "node:stream";
import type { LayerCompression } from "../oci/media-types.ts";
import type { Digest } from "../oci/types.ts";
import { canceledError } from "../util/abort.ts";
import { decompressor } from "../archive/decompress.ts";
import { wrapError } from "../util/errors.ts";
import { extractTar } from "../archive/tar-extract.ts";

export type ApplyOptions = {
  /** Keep the uid/gid of each entry (root); otherwise everything belongs to the caller. */
  preserveOwner: boolean;
  /** Names the layer in messages (its digest); the blob path otherwise. */
  name?: string;
  signal: AbortSignal;
};

export type ApplyResult = { diffId: Digest; size: number };

/** Applies the layer blob at `blobPath` onto `dir`; returns the digest and size of the uncompressed tar. */
export function applyLayerFile(blobPath: string, compression: LayerCompression, dir: string, opts: ApplyOptions): Promise<ApplyResult> {
  return applyLayerStream(createReadStream(blobPath, { highWaterMark: 1 << 20 }), compression, dir, { ...opts, name: opts.name ?? blobPath });
}

/** Applies a layer read from `source` (for example another snapshot's diff) onto `dir`. */
export async function applyLayerStream(source: Readable, compression: LayerCompression, dir: string, opts: ApplyOptions): Promise<ApplyResult> {
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hasher.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  const decode = decompressor(compression, opts.signal);
  const plain = decode ? source.pipe(decode) : source;
  source.on("error", (e) => plain.destroy(e));
  plain.on("error", (e) => tap.destroy(e));
  plain.pipe(tap);
  const chunks = tap[Symbol.asyncIterator]();
  // Without return(): the extractor stopping at the end-of-archive blocks must not close the stream.
  const shared: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => ({ next: () => chunks.next() }) };
  try {
    await extractTar(shared, dir, { whiteouts: true, preserveOwner: opts.preserveOwner, what: `layer "${opts.name ?? "?"}"`, signal: opts.signal });
    // What follows the end-of-archive blocks belongs to the DiffID too.
    while (!(await chunks.next()).done) {
      // drain
    }
  } catch (e) {
    if (opts.signal.aborted) throw canceledError(opts.signal);
    throw wrapError(e, "E_LAYER_INVALID", `failed to apply layer "${opts.name ?? "?"}"`, "the layer blob is not a valid tar archive");
  } finally {
    source.destroy();
    plain.destroy();
    tap.destroy();
  }
  return { diffId: `sha256:${hasher.digest("hex")}`, size };
}
