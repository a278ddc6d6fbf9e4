// The tar header encoder against the string-based one kitbuild used before (kept in
// tar-header-reference.ts): the same bytes for every kind of entry, at every field's limits (long,
// non-ASCII and split names, long links, large ids and sizes, sub-second, negative and far-future
// times, large device numbers, binary and non-ASCII xattrs), and for seeded random headers. Also
// TarWriter.fileEntry (bodies read in place) against entry (bodies as chunks): the same archive.
import { describe, expect, test } from "bun:test";
import { entryHeaders, type TarEntryHeader, writeEntryHeaders } from "../../src/archive/tar-header.ts";
import { TarWriter } from "../../src/archive/tar-writer.ts";
import { referenceHeaders } from "./tar-header-reference.ts";

function encoded(h: TarEntryHeader): Buffer {
  const e = entryHeaders(h);
  // Garbage around and under the blocks: the encoder must not rely on a zeroed buffer.
  const b = Buffer.alloc(e.size + 20, 0xa5);
  writeEntryHeaders(b, 10, e);
  expect(b.subarray(0, 10).every((x) => x === 0xa5)).toBe(true);
  expect(b.subarray(10 + e.size).every((x) => x === 0xa5)).toBe(true);
  return b.subarray(10, 10 + e.size);
}

/** `h` with its time as whole seconds (floor) and nanoseconds, as statx gives it. */
function asParts(h: TarEntryHeader): TarEntryHeader {
  const ns = h.mtimeNs ?? 0n;
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) [sec, nsec] = [sec - 1n, nsec + 1_000_000_000n];
  const { mtimeNs: _, ...rest } = h;
  return { ...rest, mtimeSec: Number(sec), mtimeNsec: Number(nsec) };
}

const base: TarEntryHeader = { name: "a.txt", type: "file", mode: 0o644, uid: 0, gid: 0, mtimeNs: 1_700_000_000_000_000_000n, size: 5 };
const s = (n: number, c = "x") => c.repeat(n);

const CASES: Array<[string, Partial<TarEntryHeader>]> = [
  ["a plain file", {}],
  ["a directory", { name: "dir/", type: "directory", size: undefined }],
  ["nanosecond mtime", { mtimeNs: 1_600_000_000_123_456_789n }],
  ["mtime with trailing zeros in its fraction", { mtimeNs: 1_600_000_000_100_000_000n }],
  ["mtime of 1 ns", { mtimeNs: 1n }],
  ["negative mtime", { mtimeNs: -1_500_000_000n }],
  ["mtime just under a second before the epoch", { mtimeNs: -500_000_000n }],
  ["mtime a whole second before the epoch", { mtimeNs: -1_000_000_000n }],
  ["mtime 1 ns before the epoch", { mtimeNs: -1n }],
  ["mtime of 2.5 s before the epoch", { mtimeNs: -2_500_000_000n }],
  ["mtime at ustar's limit", { mtimeNs: BigInt(0o77777777777) * 1_000_000_000n }],
  ["mtime past ustar's limit", { mtimeNs: (BigInt(0o77777777777) + 1n) * 1_000_000_000n }],
  ["mtime far past ustar's limit, with a fraction", { mtimeNs: 99_999_999_999_123_000_000n }],
  ["name of exactly 100 bytes", { name: s(100) }],
  ["name of 101 bytes without a slash", { name: s(101) }],
  ["name split into prefix and name", { name: `${s(60, "p")}/${s(90, "n")}` }],
  ["name whose prefix would be too long", { name: `${s(156, "p")}/${s(10, "n")}` }],
  ["name whose last part is too long", { name: `${s(10, "p")}/${s(101, "n")}` }],
  ["long directory name", { name: `${s(150, "d")}/`, type: "directory" }],
  ["long directory name of 300 bytes", { name: `${s(120, "a")}/${s(179, "b")}/`, type: "directory" }],
  ["non-ASCII name", { name: "ünïcødé 日本.txt" }],
  ["non-ASCII name with a surrogate pair", { name: "dir/emoji-😀.txt" }],
  ["non-ASCII long directory", { name: `${s(95, "é")}/`, type: "directory" }],
  ["name with a control character", { name: "tab\there" }],
  ["name of slashes", { name: "///", type: "directory" }],
  ["empty name", { name: "" }],
  ["mode 0 and every mode bit", { mode: 0o177777 }],
  ["uid and gid at the limit", { uid: 0o7777777, gid: 0o7777777 }],
  ["uid and gid past the limit", { uid: 2_000_000_000, gid: 3_000_000 }],
  ["size past ustar's limit", { size: 0o77777777777 + 1 }],
  ["size of 8 GiB", { size: 8 * 1024 ** 3 }],
  ["short symlink", { type: "symlink", name: "l", linkname: "../target", size: undefined }],
  ["symlink of exactly 100 bytes", { type: "symlink", linkname: s(100, "t") }],
  ["symlink of 101 bytes", { type: "symlink", linkname: `../${s(150, "t")}` }],
  ["non-ASCII symlink", { type: "symlink", linkname: "cible/ø" }],
  ["hardlink", { type: "link", linkname: "first/name" }],
  ["character device", { type: "character-device", devmajor: 1, devminor: 3 }],
  ["block device with large numbers", { type: "block-device", devmajor: 0o7777777, devminor: 0o7777777 + 5 }],
  ["fifo", { type: "fifo" }],
  ["binary xattr", { xattrs: new Map([["security.capability", Buffer.from([1, 0, 0, 2, 0xff, 0xfe, 0x80, 0])]]) }],
  ["xattrs in unsorted order", { xattrs: new Map([["user.z", Buffer.from("z")], ["user.a", Buffer.from("a")], ["trusted.m", Buffer.alloc(0)]]) }],
  ["xattr name with latin1 bytes", { xattrs: new Map([["user.caf\u00e9", Buffer.from("v")]]) }],
  ["xattr whose record length crosses a power of ten", { xattrs: new Map([["user.x", Buffer.alloc(84, 0x41)]]) }],
  ["large xattr", { xattrs: new Map([["user.big", Buffer.alloc(70_000, 7)]]) }],
  ["every record at once", {
    name: `${s(200, "é")}`, linkname: s(120, "l"), type: "link", uid: 9_000_000, gid: 9_000_001, size: 0o77777777777 + 2,
    mtimeNs: -3_000_000_001n, xattrs: new Map([["user.b", Buffer.from("2")], ["user.a", Buffer.from("1")]]),
  }],
];

/** A small seeded generator (mulberry32), so a failure names a reproducible header. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomHeader(next: () => number): TarEntryHeader {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const part = () => Array.from({ length: 1 + Math.floor(next() * 70) }, () => pick(["a", "b", "/", "é", "日", "-", " ", "😀"])).join("");
  const name = Array.from({ length: 1 + Math.floor(next() * 4) }, part).join("/").replace(/\/+/g, "/");
  const type = pick(["file", "directory", "symlink", "link", "fifo", "character-device"] as const);
  const h: TarEntryHeader = {
    name: type === "directory" ? `${name}/` : name, type, mode: Math.floor(next() * 0o10000),
    uid: pick([0, 1000, 0o7777777, 0o7777777 + 1]), gid: pick([0, 65534, 5_000_000]),
    mtimeNs: BigInt(Math.floor(next() * 2e9) - pick([0, 0, 0, 1e9])) * 1_000_000_000n + pick([0n, 1n, -1n, 500_000_000n, BigInt(Math.floor(next() * 1e9))]),
  };
  if (type === "file") h.size = pick([0, 1, 511, 512, 513, 1 << 20]);
  if (type === "symlink" || type === "link") h.linkname = part();
  if (type === "character-device") [h.devmajor, h.devminor] = [Math.floor(next() * 5000), Math.floor(next() * 2e6)];
  if (next() < 0.2) h.xattrs = new Map([[`user.${part()}`, Buffer.from(part())]]);
  return h;
}

describe("tar headers", () => {
  for (const [what, change] of CASES) {
    test(`${what}: the same bytes as the string-based encoder, from nanoseconds or seconds and nanoseconds`, () => {
      const h = { ...base, ...change };
      expect(encoded(h).equals(referenceHeaders(h))).toBe(true);
      expect(encoded(asParts(h)).equals(referenceHeaders(h))).toBe(true);
    });
  }

  test("2,000 seeded random headers: the same bytes as the string-based encoder", () => {
    const next = random(19);
    for (let i = 0; i < 2000; i++) {
      const h = randomHeader(next);
      const theirs = referenceHeaders(h);
      if (!encoded(h).equals(theirs) || !encoded(asParts(h)).equals(theirs)) throw new Error(`header ${i} differs: ${JSON.stringify(h, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))}`);
    }
  });
});

async function archive(write: (tar: TarWriter) => Promise<void>): Promise<Buffer> {
  const tar = new TarWriter();
  const bytes = Array.fromAsync(tar.stream as AsyncIterable<Buffer>);
  await write(tar);
  await tar.finish();
  return Buffer.concat(await bytes);
}

describe("TarWriter headers", () => {
  test("headers longer than the gathered chunk (a 300 KB xattr) are written whole", async () => {
    const h: TarEntryHeader = { ...base, size: 0, xattrs: new Map([["user.huge", Buffer.alloc(300_000, 3)]]) };
    const bytes = await archive(async (tar) => {
      await tar.entry({ ...base, name: "before", size: 0 });
      await tar.entry(h);
    });
    const expected = Buffer.concat([referenceHeaders({ ...base, name: "before", size: 0 }), referenceHeaders(h), Buffer.alloc(1024)]);
    expect(bytes.equals(expected)).toBe(true);
  });
});

describe("TarWriter.fileEntry", () => {
  test("bodies read in place give the archive that bodies given as chunks give", async () => {
    const sizes = [1, 100, 511, 512, 513, 1024, 4095, 70_000, 200_000, 262_000, 300_000, (1 << 20) - 1, 1 << 20];
    const body = (size: number) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + size) & 0xff));
    const header = (size: number, i: number) => ({ ...base, name: `f${i}-${size}`, size, type: "file" as const });
    const reader = (data: Buffer) => {
      let at = 0;
      return (buffer: Buffer, offset: number, length: number) => {
        const n = data.copy(buffer, offset, at, Math.min(at + length, data.length));
        at += n;
        return n;
      };
    };
    // Twice over, so entries fall at every offset in the gathered chunks.
    const all = [...sizes, ...sizes];
    const inPlace = await archive(async (tar) => {
      for (const [i, size] of all.entries()) await tar.fileEntry(header(size, i), reader(body(size)));
    });
    const chunked = await archive(async (tar) => {
      for (const [i, size] of all.entries()) await tar.entry(header(size, i), (async function* () { yield body(size); })());
    });
    expect(inPlace.equals(chunked)).toBe(true);
  });

  test("a body that is longer or shorter than its size is E_ARCHIVE_CHANGED", async () => {
    for (const [size, actual] of [[100, 101], [512, 600], [100, 99], [300_000, 300_001], [300_000, 10]]) {
      const tar = new TarWriter();
      const drained = Array.fromAsync(tar.stream as AsyncIterable<Buffer>).catch(() => []);
      const data = Buffer.alloc(actual as number, 1);
      let at = 0;
      const err = await tar
        .fileEntry({ ...base, size: size as number, type: "file" }, (b, o, l) => {
          const n = data.copy(b, o, at, Math.min(at + l, data.length));
          at += n;
          return n;
        })
        .catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe("E_ARCHIVE_CHANGED");
      tar.abort(new Error("done"));
      await drained;
    }
  });
});
