// A compression worker: compresses one chunk of a layer into one complete gzip member or zstd frame.
// (scripts/build.ts compiles this file into the binary as an extra entrypoint.)
import { compressChunk } from "./compress-chunk.ts";

declare const self: Worker;

export type CompressJob = { id: number; data: ArrayBuffer; compression: "gzip" | "zstd"; level: number | undefined };
/** `input`: the job's chunk handed back, for the pool to fill again. */
export type CompressDone = { id: number; data: ArrayBuffer; input: ArrayBuffer };

self.onmessage = (e: MessageEvent<CompressJob>) => {
  const { id, data, compression, level } = e.data;
  const input = new Uint8Array(data);
  const out = compressChunk(input, compression, level);
  const whole = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength;
  const result = (whole ? out.buffer : out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength)) as ArrayBuffer;
  self.postMessage({ id, data: result, input: data } satisfies CompressDone, [result, data]);
};
