// A small tar writer: ustar headers, PAX records where ustar cannot hold a value, and the stream
// as a Node Readable with backpressure, so a layer can be piped into a compressor. kitbuild writes
// tars with this rather than tar-stream's pack because that one encodes PAX values as UTF-8 text
// (corrupting binary xattrs such as security.capability) and replaces a mode of 0 by 0644/0755.
import type { PassThrough, Readable } from "node:stream";
import { stream } from "../util/lazy-modules.ts";
import { KitError } from "../util/errors.ts";
import { SpareBuffers } from "../util/spare-buffers.ts";
import { BLOCK, entryHeaders, padded, type TarEntryHeader, writeEntryHeaders } from "./tar-header.ts";

/** Writes smaller than GATHER_BELOW are gathered into GATHER-byte chunks. */
const GATHER = 256 * 1024;
const GATHER_BELOW = 64 * 1024;
/** Gathered buffers kept for reuse: as many as the stream holds before it pushes back, and a few. */
const SPARE_GATHERED = 8;
/** The largest file `fileEntry` takes: read whole and synchronously (from the page cache, most often). */
export const SMALL_FILE = 1 << 20;

/**
 * Reads up to `length` bytes into `buffer` at `offset`, as readSync does; 0 at the end. It reads a
 * regular file: fewer bytes than asked means the end was reached, so no call is made to see 0.
 */
export type SyncRead = (buffer: Buffer, offset: number, length: number) => number;

/**
 * Sees the archive's bytes as they go to the stream, before any reader does (a layer's DiffID is
 * hashed there: a Transform stage for it cost a round of stream events per chunk).
 */
export type TarWatch = {
  /** Each chunk, in order. */
  onChunk?: (chunk: Uint8Array) => void;
  /** After the last chunk, before the stream ends. */
  onEnd?: () => void;
};

export class TarWriter {
  /** The archive's bytes; read it (or pipe it) while entries are written. */
  readonly stream: Readable;
  private readonly out: PassThrough = new (stream().PassThrough)({ highWaterMark: 1 << 20 });
  private readonly watch: TarWatch;

  constructor(watch: TarWatch = {}) {
    this.stream = this.out;
    this.watch = watch;
  }

  /** Writes one entry; a file's `body` must yield exactly `size` bytes. */
  async entry(h: TarEntryHeader, body?: AsyncIterable<Uint8Array>): Promise<void> {
    await this.headers(h);
    const size = h.type === "file" ? (h.size ?? 0) : 0;
    if (size === 0) return;
    let written = 0;
    for await (const chunk of body ?? []) {
      written += chunk.length;
      if (written > size) throw changedWhileArchived(`"${h.name}" grew while it was archived`);
      await this.write(chunk);
    }
    if (written !== size) throw changedWhileArchived(`"${h.name}" changed size while it was archived (${written} of ${size} bytes)`);
    const rest = padded(size) - size;
    if (rest > 0) await this.write(Buffer.alloc(rest));
  }

  /**
   * Writes a file entry of at most SMALL_FILE bytes whose body `read` gives synchronously. A body
   * that fits is read straight into the gathered chunk (no buffer, generator or promise per file),
   * a larger one into a buffer of its own. One byte more than `size` is asked for, so a file that
   * grew is noticed.
   */
  async fileEntry(h: TarEntryHeader & { type: "file"; size: number }, read: SyncRead): Promise<void> {
    if (h.size > SMALL_FILE) throw new KitError("E_INTERNAL", `fileEntry takes files of at most ${SMALL_FILE} bytes, not ${h.size}`);
    const e = entryHeaders(h);
    // The headers, the body with its padding, and room for the one byte too many.
    const room = e.size + padded(h.size + 1);
    if (room > GATHER) return this.entry(h, readWhole(read, h.size));
    if (this.out.destroyed) throw streamClosed();
    if (this.used + room > this.pending.length) await this.flush();
    writeEntryHeaders(this.pending, this.used, e);
    const at = this.used + e.size;
    if (h.size === 0) {
      this.used = at;
      return;
    }
    const got = readFully(read, this.pending, at, h.size + 1);
    if (got > h.size) throw changedWhileArchived(`"${h.name}" grew while it was archived`);
    if (got !== h.size) throw changedWhileArchived(`"${h.name}" changed size while it was archived (${got} of ${h.size} bytes)`);
    const end = at + padded(h.size);
    this.pending.fill(0, at + h.size, end);
    this.used = end;
  }

  /** Ends the archive with its two zero blocks. */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(2 * BLOCK));
    await this.flush();
    this.watch.onEnd?.();
    this.out.end();
  }

  /** Fails the stream (its reader sees the error). */
  abort(err: Error): void {
    this.out.destroy(err);
  }

  /**
   * Headers, padding and small files are gathered into one buffer before they go to the stream:
   * each chunk costs the stream (and the hashing and compression behind it) a round of calls and
   * events, which dominated layers of many small files.
   */
  private pending = Buffer.allocUnsafe(GATHER);
  private used = 0;

  /** The header blocks of `h`, encoded in place in the gathered chunk. */
  private async headers(h: TarEntryHeader): Promise<void> {
    const e = entryHeaders(h);
    if (this.out.destroyed) throw streamClosed();
    if (e.size > this.pending.length) {
      // Only xattrs of hundreds of KiB make headers this long.
      const b = Buffer.allocUnsafe(e.size);
      writeEntryHeaders(b, 0, e);
      return this.write(b);
    }
    if (this.used + e.size > this.pending.length) await this.flush();
    writeEntryHeaders(this.pending, this.used, e);
    this.used += e.size;
  }

  private async write(chunk: Uint8Array): Promise<void> {
    if (this.out.destroyed) throw streamClosed();
    if (chunk.length < GATHER_BELOW) {
      if (this.used + chunk.length > this.pending.length) await this.flush();
      this.pending.set(chunk, this.used);
      this.used += chunk.length;
      return;
    }
    await this.flush();
    await this.push(chunk);
  }

  private async flush(): Promise<void> {
    if (this.used === 0) return;
    const gathered = this.pending.subarray(0, this.used);
    // Another buffer: the stream keeps the gathered one until its reader has taken it.
    this.pending = this.spare.take();
    this.used = 0;
    await this.push(gathered);
  }

  private readonly spare = new SpareBuffers(GATHER, SPARE_GATHERED);

  /**
   * Takes back a chunk the stream's reader is done with (it copied the bytes out and keeps no
   * reference), to gather into again. Only a whole gathered buffer is taken; anything else (a chunk
   * the stream joined from several) is left to the collector.
   */
  recycle(chunk: Uint8Array): void {
    if (chunk.byteOffset === 0) this.spare.give(chunk.buffer as ArrayBuffer);
  }

  private async push(chunk: Uint8Array): Promise<void> {
    if (this.out.destroyed) throw streamClosed();
    this.watch.onChunk?.(chunk);
    if (this.out.write(chunk)) return;
    // Wait for the reader, unless it goes away (an error or abort downstream destroys the stream).
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        this.out.off("drain", onDrain);
        this.out.off("close", onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(streamClosed());
      this.out.on("drain", onDrain);
      this.out.on("close", onClose);
    });
  }
}

/** A body of `size` bytes (and the one too many, if there is one) read in one buffer. */
async function* readWhole(read: SyncRead, size: number): AsyncGenerator<Uint8Array> {
  const buf = Buffer.allocUnsafe(size + 1);
  yield buf.subarray(0, readFully(read, buf, 0, size + 1));
}

/** Reads up to `length` bytes into `buffer` at `offset`, until the end; the count read. */
function readFully(read: SyncRead, buffer: Buffer, offset: number, length: number): number {
  let got = 0;
  while (got < length) {
    const asked = length - got;
    const n = read(buffer, offset + got, asked);
    got += n;
    if (n < asked) break;
  }
  return got;
}

function changedWhileArchived(message: string): KitError {
  return new KitError("E_ARCHIVE_CHANGED", message, { hint: "something changed the files while kitbuild read them; run the build again" });
}

/** The reader went away (an error or an abort downstream); the cause is reported there. */
function streamClosed(): KitError {
  return new KitError("E_ARCHIVE_CLOSED", "the tar stream was closed");
}
