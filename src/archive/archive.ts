// Tar archives as files (ADD's local archives): recognizing one by its content whatever its name
// (a compressed or plain stream whose first block is a valid tar header), and unpacking it.
import { closeSync, createReadStream, lstatSync, openSync, readSync } from "node:fs";
import type { Readable } from "node:stream";
import { type Compression, decompressor, detectCompression } from "./decompress.ts";
import { extractTar, type ExtractOptions } from "./tar-extract.ts";
import { isTarHeader } from "./tar-reader.ts";

/** The compression of the tar archive at `path`, or undefined when it is not one. */
export async function sniffTarArchive(path: string, signal: AbortSignal): Promise<Compression | undefined> {
  if (!lstatSync(path).isFile()) return undefined;
  const head = Buffer.alloc(6);
  const fd = openSync(path, "r");
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const compression = detectCompression(head);
  try {
    const first = await firstBytes(plainStream(path, compression, signal), 512);
    return isTarHeader(first) ? compression : undefined;
  } catch {
    return undefined; // corrupt compressed data: not an archive, copied as it is
  }
}

/** Unpacks the archive at `path` into `dir` (see archive/tar-extract.ts for the rules). */
export async function extractArchive(path: string, compression: Compression, dir: string, opts: ExtractOptions): Promise<void> {
  const stream = plainStream(path, compression, opts.signal);
  try {
    await extractTar(stream, dir, opts);
  } finally {
    stream.destroy();
  }
}

function plainStream(path: string, compression: Compression, signal: AbortSignal): Readable {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const decode = decompressor(compression, signal);
  if (!decode) return file;
  file.on("error", (e) => decode.destroy(e));
  decode.on("close", () => file.destroy());
  return file.pipe(decode);
}

async function firstBytes(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= n) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, n);
}
