// Layer compression, in parallel and reproducible. The layer is cut into fixed 1 MiB chunks and each
// is compressed on its own into a complete gzip member (or zstd frame); members and frames
// concatenate into one valid stream. The same input gives the same bytes however many workers ran,
// however the input arrived and whatever else the pool compressed at the same time. One pool can
// serve every layer of an export (workers started once, kept busy across layer boundaries). A base
// image's layers are never recompressed (see layers.ts).
import { availableParallelism } from "node:os";
import type { Readable } from "node:stream";
import { stream } from "../util/lazy-modules.ts";
import { compressChunk } from "./compress-chunk.ts";
import type { CompressDone, CompressJob } from "./compress-worker.ts";
import { SpareBuffers } from "../util/spare-buffers.ts";
import { workerSpecifier } from "../util/worker-specifier.ts";
import type { Compression } from "./image-options.ts";
import { KitError } from "../util/errors.ts";

const CHUNK = 1 << 20;

/**
 * `input` compressed as asked; uncompressed passes through untouched. With `pool`, its workers do
 * the work (the caller closes it); without, a pool is started for this stream when it is more
 * than one chunk long.
 */
export function compressStream(input: Readable, compression: Compression, level?: number, pool?: CompressPool, recycle?: Recycle): Readable {
  if (compression === "uncompressed") return input;
  return stream().Readable.from(compressChunks(input, compression, level, pool, recycle));
}

/** Takes back a chunk of the input once it has been copied out (TarWriter.recycle). */
export type Recycle = (chunk: Buffer) => void;

async function* fixedChunks(input: AsyncIterable<Buffer>, pool?: CompressPool, recycle?: Recycle): AsyncGenerator<Uint8Array> {
  const fresh = () => pool?.chunkBuffer() ?? Buffer.allocUnsafe(CHUNK);
  let buf = fresh();
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
        buf = fresh();
        used = 0;
      }
    }
    recycle?.(piece);
  }
  if (used > 0) yield buf.subarray(0, used);
}

async function* compressChunks(input: Readable, compression: "gzip" | "zstd", level?: number, shared?: CompressPool, recycle?: Recycle): AsyncGenerator<Uint8Array> {
  const chunks = fixedChunks(input, shared, recycle);
  const first = await chunks.next();
  if (first.done) return void (yield compressChunk(new Uint8Array(0), compression, level));
  const second = await chunks.next();
  // A one-chunk layer is not worth a round trip to a worker.
  if (second.done) return void (yield compressChunk(first.value, compression, level));
  const pool = shared ?? new CompressPool();
  try {
    const job = (chunk: Uint8Array) => pool.compress(chunk, compression, level);
    const inflight: Array<Promise<Uint8Array>> = [job(first.value), job(second.value)];
    for await (const chunk of chunks) {
      inflight.push(job(chunk));
      // Keep every worker busy, and a few chunks ready, without reading the whole layer ahead.
      while (inflight.length > pool.size * 2) yield await (inflight.shift() as Promise<Uint8Array>);
    }
    while (inflight.length > 0) yield await (inflight.shift() as Promise<Uint8Array>);
  } finally {
    if (!shared) pool.close();
  }
}

type Pending = { job: CompressJob; resolve: (b: Uint8Array) => void; reject: (e: Error) => void };

/**
 * Compression workers (one per core, at most 4), started as chunks wait for them. A chunk goes to whichever
 * worker is free, so a slow chunk (random data) does not hold up the fast ones queued behind it on
 * the same worker. Close it when done (workers keep the process alive).
 */
export class CompressPool implements Disposable {
  readonly size = Math.min(4, Math.max(1, availableParallelism()));
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Pending>();
  private readonly queue: Pending[] = [];
  private workers = 0;
  private nextId = 0;
  /** Chunks the workers handed back, filled again instead of allocating (see chunkBuffer). */
  private readonly spare = new SpareBuffers(CHUNK, this.size * 2);

  /**
   * An empty CHUNK-sized buffer, reusing one a worker is done with: a new megabyte per chunk sent
   * to a worker stayed in the worker's heap until a collection.
   */
  chunkBuffer(): Buffer<ArrayBuffer> {
    return this.spare.take();
  }

  compress(chunk: Uint8Array, compression: "gzip" | "zstd", level: number | undefined): Promise<Uint8Array> {
    const id = this.nextId++;
    // A chunk that is its whole buffer (fixedChunks' own) is handed over without a copy.
    const whole = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
    const data = (whole ? chunk.buffer : chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength)) as ArrayBuffer;
    const done = new Promise<Uint8Array>((resolve, reject) => {
      this.queue.push({ job: { id, data, compression, level }, resolve, reject });
      this.dispatch();
    });
    done.catch(() => {}); // a stream that failed elsewhere may no longer wait for its chunks
    return done;
  }

  close(): void {
    for (const w of [...this.idle, ...this.busy.keys()]) w.terminate();
    for (const p of [...this.busy.values(), ...this.queue]) p.reject(new KitError("E_EXPORT_COMPRESS", "the compression pool was closed"));
    this.idle.length = 0;
    this.busy.clear();
    this.queue.length = 0;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private spawn(): Worker {
    const w = new Worker(workerSpecifier("exporter/compress-worker.ts", import.meta.url));
    w.onmessage = (e: MessageEvent<CompressDone>) => {
      const p = this.busy.get(w);
      this.busy.delete(w);
      this.idle.push(w);
      this.spare.give(e.data.input);
      p?.resolve(new Uint8Array(e.data.data));
      this.dispatch();
    };
    w.onerror = (e) => {
      const err = new KitError("E_EXPORT_COMPRESS", `compression worker failed: ${e.message}`);
      for (const p of [...this.busy.values(), ...this.queue]) p.reject(err);
      this.busy.clear();
      this.queue.length = 0;
    };
    return w;
  }

  /**
   * Hands queued chunks to idle workers, starting another worker (up to `size`) only when a chunk
   * waits and none is idle: a layer of small compressible files, whose chunks come slower than one
   * worker compresses them, keeps one worker and its memory (about 10 MB each).
   */
  private dispatch(): void {
    while (this.queue.length > 0) {
      if (this.idle.length === 0) {
        if (this.workers >= this.size) return;
        this.workers++;
        this.idle.push(this.spawn());
      }
      const w = this.idle.pop() as Worker;
      const p = this.queue.shift() as Pending;
      this.busy.set(w, p);
      w.postMessage(p.job, [p.job.data]);
    }
  }
}
