// Layer compression. Output must be the same bytes for the same input on every build, so the
// compressor is fed fixed-size chunks (zlib's output depends on how the input is split) and its
// settings are fixed; a base image's layers are never recompressed (see layers.ts).
import { Transform, type Readable } from "node:stream";
import { constants, createGzip, createZstdCompress } from "node:zlib";
import type { Compression } from "./image-options.ts";

const CHUNK = 64 * 1024;

/** Re-chunks a stream into fixed-size pieces (the last may be shorter). */
function fixedChunks(): Transform {
  let pending: Buffer[] = [];
  let length = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      pending.push(chunk);
      length += chunk.length;
      if (length >= CHUNK) {
        const all = Buffer.concat(pending);
        let off = 0;
        for (; off + CHUNK <= all.length; off += CHUNK) this.push(all.subarray(off, off + CHUNK));
        pending = off < all.length ? [all.subarray(off)] : [];
        length = all.length - off;
      }
      cb();
    },
    flush(cb) {
      if (length > 0) this.push(Buffer.concat(pending));
      cb();
    },
  });
}

/** `input` compressed as asked; uncompressed passes through untouched. */
export function compressStream(input: Readable, compression: Compression, level?: number): Readable {
  if (compression === "uncompressed") return input;
  const compressor =
    compression === "gzip"
      ? createGzip({ level: level ?? constants.Z_DEFAULT_COMPRESSION, chunkSize: CHUNK })
      : createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: level ?? 3 }, chunkSize: CHUNK });
  input.on("error", (e) => compressor.destroy(e));
  return input.pipe(fixedChunks()).pipe(compressor);
}
