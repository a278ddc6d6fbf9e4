// A compression worker: compresses one chunk of a layer into one complete gzip member or zstd frame.
// (scripts/build.ts compiles this file into the binary as an extra entrypoint.)
import { constants, gzipSync, zstdCompressSync } from "node:zlib";

declare const self: Worker;

export type CompressJob = { id: number; data: ArrayBuffer; compression: "gzip" | "zstd"; level: number | undefined };
export type CompressDone = { id: number; data: ArrayBuffer };

self.onmessage = (e: MessageEvent<CompressJob>) => {
  const { id, data, compression, level } = e.data;
  const input = new Uint8Array(data);
  const out =
    compression === "gzip"
      ? gzipSync(input, { level: level ?? constants.Z_DEFAULT_COMPRESSION })
      : zstdCompressSync(input, { params: { [constants.ZSTD_c_compressionLevel]: level ?? 3 } });
  const copy = out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
  self.postMessage({ id, data: copy } satisfies CompressDone, [copy as ArrayBuffer]);
};
