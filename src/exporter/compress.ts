// Layer compression, in parallel and reproducible. The layer is cut into fixed 1 MiB chunks and each
// is compressed on its own into a complete gzip member (or zstd frame); members and frames
// concatenate into one valid stream. The same input gives the same bytes however many workers ran
// and however the input arrived, and two cores compress twice as fast. A base image's layers are
// never recompressed (see layers.ts).
import { availableParallelism } from "node:os";
import { Readable } from "node:stream";
import { constants, gzipSync, zstdCompressSync } from "node:zlib";
import type { CompressDone, CompressJob } from "./compress-worker.ts";
import type { Compression } from "./image-options.ts";
import { KitError } from "../util/errors.ts";

const CHUNK = 1 << 20;

/** `input` compressed as asked; uncompressed passes through untouched. */
export function compressStream(input: Readable, compression: Compression, level?: number): Readable {
  if (compression === "uncompressed") return input;
  return Readable.from(compressChunks(input, compression, level));
}

async function* fixedChunks(input: AsyncIterable<Buffer>): AsyncGenerator<Uint8Array> {
  let buf = Buffer.allocUnsafe(CHUNK);
  let used = 0;
  for await (const piece of input) {
    let off = 0;
    while (off < piece.length) {
      const n = Math.min(CHUNK - used, piece.length - off);
      piece.copy(buf, used, off, off + n);
      used += n;
      off += n;
      if (used === CHUNK) {
        yield buf;
        buf = Buffer.allocUnsafe(CHUNK);
        used = 0;
      }
    }
  }
  if (used > 0) yield buf.subarray(0, used);
}

function compressSync(chunk: Uint8Array, compression: "gzip" | "zstd", level?: number): Uint8Array {
  return compression === "gzip"
    ? gzipSync(chunk, { level: level ?? constants.Z_DEFAULT_COMPRESSION })
    : zstdCompressSync(chunk, { params: { [constants.ZSTD_c_compressionLevel]: level ?? 3 } });
}

async function* compressChunks(input: Readable, compression: "gzip" | "zstd", level?: number): AsyncGenerator<Uint8Array> {
  const chunks = fixedChunks(input);
  const first = await chunks.next();
  if (first.done) return void (yield compressSync(new Uint8Array(0), compression, level));
  const second = await chunks.next();
  // A one-chunk layer is not worth starting workers for.
  if (second.done) return void (yield compressSync(first.value, compression, level));
  const pool = new CompressPool(Math.min(4, Math.max(1, availableParallelism())), compression, level);
  try {
    const inflight: Array<Promise<Uint8Array>> = [pool.compress(first.value), pool.compress(second.value)];
    for await (const chunk of chunks) {
      inflight.push(pool.compress(chunk));
      // Keep every worker busy, and a few chunks ready, without reading the whole layer ahead.
      while (inflight.length > pool.size * 2) yield await (inflight.shift() as Promise<Uint8Array>);
    }
    while (inflight.length > 0) yield await (inflight.shift() as Promise<Uint8Array>);
  } finally {
    pool.close();
  }
}

/** Where the worker is: beside this file from source, under the bundle root in the binary. */
function workerSpecifier(): string {
  const inBinary = import.meta.url.includes("/$bunfs/");
  return inBinary ? "./exporter/compress-worker.ts" : new URL("./compress-worker.ts", import.meta.url).href;
}

class CompressPool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  constructor(
    readonly size: number,
    private readonly compression: "gzip" | "zstd",
    private readonly level: number | undefined,
  ) {
    this.workers = Array.from({ length: size }, () => {
      const w = new Worker(workerSpecifier());
      w.onmessage = (e: MessageEvent<CompressDone>) => {
        this.waiting.get(e.data.id)?.resolve(new Uint8Array(e.data.data));
        this.waiting.delete(e.data.id);
      };
      w.onerror = (e) => {
        for (const p of this.waiting.values()) p.reject(new KitError("E_EXPORT_COMPRESS", `compression worker failed: ${e.message}`));
        this.waiting.clear();
      };
      return w;
    });
  }

  compress(chunk: Uint8Array): Promise<Uint8Array> {
    const id = this.nextId++;
    const data = chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength) as ArrayBuffer;
    const job: CompressJob = { id, data, compression: this.compression, level: this.level };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      (this.workers[id % this.size] as Worker).postMessage(job, [data]);
    });
  }

  close(): void {
    for (const w of this.workers) w.terminate();
  }
}
