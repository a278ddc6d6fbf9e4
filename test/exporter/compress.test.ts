// Layer compression: the bytes are the concatenation of each 1 MiB chunk compressed on its own,
// whichever way the input arrives, whether a pool is shared and what else it compresses meanwhile.
import { describe, expect, test } from "bun:test";
import { Readable } from "node:stream";
import { constants, gunzipSync, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { writeFileSync } from "node:fs";
import { CompressPool, compressStream } from "../../src/exporter/compress.ts";
import { compressChunk, incompressible } from "../../src/exporter/compress-chunk.ts";
import { overlayChanges } from "../../src/snapshot/changes-overlay.ts";
import { writeLayerTar } from "../../src/snapshot/layer-diff.ts";
import { tempDir } from "../harness.ts";

const MiB = 1 << 20;

/** Mixed data: runs of pseudo-random bytes (slow to compress) and zeros (fast). */
function mixed(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    if ((i >> 19) % 3 === 2) continue;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** The expected stream: every 1 MiB chunk compressed alone, concatenated. */
function expected(data: Buffer, compress: (b: Buffer) => Uint8Array): Buffer {
  const parts: Uint8Array[] = [];
  for (let off = 0; off < data.length; off += MiB) parts.push(compress(data.subarray(off, off + MiB)));
  return Buffer.concat(parts);
}

/** `data` as a stream of pieces of `piece` bytes. */
function pieces(data: Buffer, piece: number): Readable {
  return Readable.from((function* () {
    for (let off = 0; off < data.length; off += piece) yield data.subarray(off, off + piece);
  })());
}

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

// Each member as exporter/compress-chunk.ts makes it (tested on its own below); zlib reads them back.
const gzipChunk = (level?: number) => (b: Buffer) => compressChunk(b, "gzip", level);
const gzip6 = gzipChunk();

describe("compressStream", () => {
  test("a layer whose chunks go back to its writer and to the pool as they are compressed keeps its bytes", async () => {
    const dir = tempDir();
    for (let i = 0; i < 1500; i++) writeFileSync(`${dir}/f${i}`, mixed(1 + ((i * 7919) % 9000), i));
    const signal = new AbortController().signal;
    const plain = writeLayerTar(overlayChanges(dir), { signal, sourceDateEpoch: 0 });
    const tar = await collect(plain.stream);
    expect(tar.length).toBeGreaterThan(6 * MiB);
    const recycled = writeLayerTar(overlayChanges(dir), { signal, sourceDateEpoch: 0 });
    using pool = new CompressPool();
    const gz = await collect(compressStream(recycled.stream, "gzip", undefined, pool, recycled.recycle));
    expect(gz).toEqual(expected(tar, gzip6));
    expect((await recycled.done).diffId).toBe((await plain.done).diffId);
  });

  test("gzip: the same bytes for any piece size, with its own pool or a shared one", async () => {
    const data = mixed(5 * MiB + 12345, 7);
    const want = expected(data, gzip6);
    expect(await collect(compressStream(pieces(data, 65536), "gzip"))).toEqual(want);
    expect(await collect(compressStream(pieces(data, MiB), "gzip"))).toEqual(want);
    using pool = new CompressPool();
    expect(await collect(compressStream(pieces(data, 3 * MiB + 1), "gzip", undefined, pool))).toEqual(want);
    expect(Buffer.compare(gunzipSync(want), data)).toBe(0);
  });

  test("two layers compressed at once through one pool each get their own bytes", async () => {
    const a = mixed(4 * MiB + 1, 11);
    const b = mixed(3 * MiB, 12);
    using pool = new CompressPool();
    const [ga, gb] = await Promise.all([
      collect(compressStream(pieces(a, 100_000), "gzip", 1, pool)),
      collect(compressStream(pieces(b, MiB), "gzip", 1, pool)),
    ]);
    expect(ga).toEqual(expected(a, gzipChunk(1)));
    expect(gb).toEqual(expected(b, gzipChunk(1)));
    expect([gunzipSync(ga).equals(a), gunzipSync(gb).equals(b)]).toEqual([true, true]);
  });

  test("zstd: one frame per chunk, level 3 by default", async () => {
    const data = mixed(2 * MiB + 5, 3);
    const got = await collect(compressStream(pieces(data, 1 << 18), "zstd"));
    expect(got).toEqual(expected(data, (x) => zstdCompressSync(x, { params: { [constants.ZSTD_c_compressionLevel]: 3 } })));
    expect(Buffer.compare(zstdDecompressSync(got), data)).toBe(0);
  });

  test("an empty or one-chunk input is compressed without workers, and uncompressed passes through", async () => {
    expect(await collect(compressStream(pieces(Buffer.alloc(0), 1), "gzip"))).toEqual(Buffer.from(gzip6(Buffer.alloc(0))));
    const small = mixed(1000, 5);
    expect(await collect(compressStream(pieces(small, 100), "gzip"))).toEqual(Buffer.from(gzip6(small)));
    expect(await collect(compressStream(pieces(small, 100), "uncompressed"))).toEqual(small);
  });
});

describe("compressChunk", () => {
  const random = (size: number) => {
    const b = Buffer.alloc(size);
    for (let at = 0; at < size; at += 65536) crypto.getRandomValues(b.subarray(at, Math.min(at + 65536, size)));
    return b;
  };
  const text = (size: number) => Buffer.from("a line of a text file, 1234567890\n".repeat(Math.ceil(size / 35)).slice(0, size));

  test("a chunk of random bytes is stored, not searched for matches; one with anything compressible is deflated", () => {
    const rnd = random(MiB);
    expect(incompressible(rnd)).toBe(true);
    const stored = compressChunk(rnd, "gzip", undefined);
    expect(stored.length - rnd.length).toBeLessThan(200);
    expect(Buffer.compare(gunzipSync(stored), rnd)).toBe(0);
    const level0 = Bun.gzipSync(rnd as Uint8Array<ArrayBuffer>, { level: 0, library: "libdeflate" });
    for (const level of [undefined, 1, 9]) expect(Buffer.from(compressChunk(rnd, "gzip", level))).toEqual(Buffer.from(level0));
    // One compressible 64 KiB block, anywhere, and the chunk is deflated as asked.
    for (const at of [0, 512 * 1024, MiB - 65536]) {
      const mixedChunk = Buffer.from(rnd);
      text(65536).copy(mixedChunk, at);
      expect(incompressible(mixedChunk)).toBe(false);
      const deflated = compressChunk(mixedChunk, "gzip", undefined);
      expect(deflated.length).toBeLessThan(mixedChunk.length - 60_000);
      expect(Buffer.compare(gunzipSync(deflated), mixedChunk)).toBe(0);
    }
  });

  test("text, zeros and short chunks are deflated", () => {
    expect(incompressible(text(MiB))).toBe(false);
    expect(incompressible(Buffer.alloc(MiB))).toBe(false);
    // Too few bytes to tell: deflated.
    expect(incompressible(random(1000))).toBe(false);
    expect(compressChunk(text(MiB), "gzip", undefined).length).toBeLessThan(MiB / 10);
  });
});
