// File bodies in a tar: small files read whole, large ones in chunks, small writes gathered into
// larger stream chunks; the archive is the same (GNU tar reads it back byte for byte), and a file
// that grew or shrank after it was looked at is reported, not archived wrong.
import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { packEntry, packTree } from "../../src/archive/tar.ts";
import { TarWriter } from "../../src/archive/tar-writer.ts";
import { lstatEntry } from "../../src/fs/entry-stat.ts";
import { openPathsUnder, tempDir } from "../harness.ts";

const signal = new AbortController().signal;

async function collect(tar: TarWriter): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of tar.stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

function pattern(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

describe("tar file bodies", () => {
  test("many small files and a few large ones (around the 1 MiB boundary) come back identical", async () => {
    const root = tempDir("kitbuild-tar-body-");
    mkdirSync(`${root}/small`);
    for (let i = 0; i < 300; i++) writeFileSync(`${root}/small/f${i}`, pattern(i * 37, i));
    for (const size of [(1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 5]) writeFileSync(`${root}/big-${size}`, pattern(size, size));
    const tar = new TarWriter();
    const bytes = collect(tar);
    await packTree(root, tar, { signal });
    await tar.finish();
    const archive = await bytes;
    expect(archive.length % 512).toBe(0);
    // The directories the walk held open, and the files it read in them, are closed.
    expect(openPathsUnder(root)).toEqual([]);
    const out = tempDir("kitbuild-tar-body-out-");
    execFileSync("tar", ["-x", "-C", out], { input: archive });
    for (let i = 0; i < 300; i++) expect(readFileSync(`${out}/small/f${i}`).equals(pattern(i * 37, i))).toBe(true);
    for (const size of [(1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 5]) expect(readFileSync(`${out}/big-${size}`).equals(pattern(size, size))).toBe(true);
  });

  test("two archives written at once (each reading small files through its own scratch buffer) match one written alone", async () => {
    const a = tempDir("kitbuild-tar-body-a-");
    const b = tempDir("kitbuild-tar-body-b-");
    for (let i = 0; i < 200; i++) {
      writeFileSync(`${a}/f${i}`, pattern(100 + i * 50, i));
      writeFileSync(`${b}/f${i}`, pattern(100 + i * 50, i + 1000));
    }
    const pack = async (root: string) => {
      const tar = new TarWriter();
      const bytes = collect(tar);
      await packTree(root, tar, { signal });
      await tar.finish();
      return bytes;
    };
    const alone = await pack(a);
    const [withA, withB] = await Promise.all([pack(a), pack(b)]);
    expect(withA.equals(alone)).toBe(true);
    expect(withB.equals(await pack(b))).toBe(true);
    expect(withA.equals(withB)).toBe(false);
  });

  for (const [what, size, change] of [
    ["a small file that grew", 100, (p: string) => appendFileSync(p, "more")],
    ["a small file that shrank", 100, (p: string) => truncateSync(p, 10)],
    ["a large file that grew", 2 << 20, (p: string) => appendFileSync(p, "more")],
    ["a large file that shrank", 2 << 20, (p: string) => truncateSync(p, 1 << 20)],
  ] as const) {
    test(`${what} after it was looked at is E_ARCHIVE_CHANGED`, async () => {
      const root = tempDir("kitbuild-tar-body-");
      writeFileSync(`${root}/f`, pattern(size, 1));
      const st = lstatEntry(`${root}/f`);
      change(`${root}/f`);
      const tar = new TarWriter();
      const drained = collect(tar).catch(() => Buffer.alloc(0));
      const err = await packEntry(tar, "f", `${root}/f`, st, new Map(), { signal }).catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe("E_ARCHIVE_CHANGED");
      tar.abort(new Error("done"));
      await drained;
    });
  }
});
