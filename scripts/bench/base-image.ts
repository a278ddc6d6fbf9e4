// The layers of the benchmark's ~200 MB base image, made here so nothing is downloaded: many small
// text files (like a distribution's /usr) and a few large binary-like files, in three layers.
// Deterministic (seeded), so every run pulls the same bytes.
import { makeTar } from "../test-env.ts";

type Entry = Parameters<typeof makeTar>[0][number];

/** A fast deterministic byte generator (xorshift), half random and half repetitive like binaries. */
function bytes(seed: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed | 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const v = (i >> 12) & 1 ? x : (i >> 6) & 0xff;
    out[i] = v & 0xff;
    out[i + 1] = (v >> 8) & 0xff;
    out[i + 2] = (v >> 16) & 0xff;
    out[i + 3] = (v >> 24) & 0xff;
  }
  return out;
}

function textFile(seed: number, size: number): Uint8Array {
  const words = ["usr", "lib", "share", "config", "value", "debian", "package", "version", "the", "of", "and", "license"];
  let s = "";
  let x = seed;
  while (s.length < size) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    s += `${words[x % words.length]}${x % 7 === 0 ? "\n" : " "}`;
  }
  return new TextEncoder().encode(s.slice(0, size));
}

function dirs(prefix: string, n: number): Entry[] {
  return Array.from({ length: n }, (_, i) => ({ name: `${prefix}/d${i}/`, type: "directory" as const, mode: 0o755 }));
}

export async function baseImageLayers(): Promise<Uint8Array[]> {
  const small: Entry[] = [{ name: "usr/", type: "directory", mode: 0o755 }, { name: "usr/share/", type: "directory", mode: 0o755 }, ...dirs("usr/share", 50)];
  for (let i = 0; i < 4000; i++) small.push({ name: `usr/share/d${i % 50}/f${i}.txt`, type: "file", mode: 0o644, body: textFile(i, 1000 + ((i * 7919) % 12000)) });
  const big = (layer: number, count: number, mb: number): Entry[] => [
    { name: "opt/", type: "directory", mode: 0o755 },
    { name: `opt/l${layer}/`, type: "directory", mode: 0o755 },
    ...Array.from({ length: count }, (_, i) => ({ name: `opt/l${layer}/blob${i}.bin`, type: "file" as const, mode: 0o755, body: bytes(layer * 100 + i + 1, mb * 1024 * 1024) })),
  ];
  return [await makeTar(small), await makeTar(big(1, 8, 10)), await makeTar(big(2, 10, 10))];
}
