// Incompressible test data without reading /dev/urandom: a seeded xorshift32 stream, the same bytes
// for the same seed, so a large file neither compresses nor dedupes (benchmarks, large-copy tests).
import { closeSync, openSync, writeSync } from "node:fs";

export function writeNoiseFile(path: string, bytes: number, seed = 2463534242): void {
  const fd = openSync(path, "w");
  const chunk = new Uint32Array(1 << 18);
  let x = seed >>> 0 || 1;
  try {
    for (let written = 0; written < bytes; written += chunk.byteLength) {
      for (let i = 0; i < chunk.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        chunk[i] = x >>> 0;
      }
      writeSync(fd, chunk, 0, Math.min(chunk.byteLength, bytes - written));
    }
  } finally {
    closeSync(fd);
  }
}
