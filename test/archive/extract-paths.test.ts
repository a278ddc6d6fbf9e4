// The extractor remembers resolved parent directories and the directories it made, to save an
// lstat per path component per entry. These cases check that what it remembers never outlives a
// change of the tree: a symlink appearing where a remembered parent passed, entries replacing
// entries of another type, and whiteouts. Each expects where the files land, in-root.
import { describe, expect, test } from "bun:test";
import { existsSync, lstatSync, readFileSync, readlinkSync } from "node:fs";
import { Readable } from "node:stream";
import { makeTar } from "../../scripts/test-env.ts";
import { extractTar } from "../../src/archive/tar-extract.ts";
import { tempDir } from "../harness.ts";

type Entry = Parameters<typeof makeTar>[0][number];
const signal = new AbortController().signal;
const bytes = (s: string) => new TextEncoder().encode(s);
const dir = (name: string): Entry => ({ name: `${name}/`, type: "directory", mode: 0o755 });
const file = (name: string, body: string): Entry => ({ name, type: "file", mode: 0o644, body: bytes(body) });
const symlink = (name: string, target: string): Entry => ({ name, type: "symlink", linkname: target, mode: 0o777 });

async function extract(root: string, entries: Entry[]): Promise<void> {
  const tar = await makeTar(entries);
  await extractTar(Readable.from([Buffer.from(tar)]), root, { whiteouts: true, preserveOwner: false, what: "test layer", signal });
}

describe("remembered parents and directories", () => {
  test("a symlink made where an opaque marker's parent was only resolved is followed by later entries", async () => {
    const root = tempDir("kitbuild-extract-");
    await extract(root, [dir("t"), file("a/b/.wh..wh..opq", ""), symlink("a", "t"), file("a/b/x", "through")]);
    expect(lstatSync(`${root}/a`).isSymbolicLink()).toBe(true);
    expect(readFileSync(`${root}/t/b/x`, "utf8")).toBe("through");
  });

  test("a symlink made on the way of a parent resolved through another symlink (x/../t) changes it", async () => {
    const root = tempDir("kitbuild-extract-");
    await extract(root, [dir("t"), dir("u"), dir("u/v"), symlink("s", "x/../t"), file("s/f1", "one"), symlink("x", "u/v"), file("s/f2", "two")]);
    expect(readFileSync(`${root}/t/f1`, "utf8")).toBe("one");
    // s -> x/../t, and x -> u/v now: s/f2 is u/v/../t/f2, in-root.
    expect(readFileSync(`${root}/u/t/f2`, "utf8")).toBe("two");
    expect(existsSync(`${root}/t/f2`)).toBe(false);
  });

  test("entries replace entries of another type at a remembered directory, and the tree under it", async () => {
    const root = tempDir("kitbuild-extract-");
    await extract(root, [
      file("d/sub/f", "first"),
      file("d", "now a file"),
      file("d/sub/g", "d is a directory again"),
      symlink("e", "d"),
      dir("e"),
      file("e/h", "in e"),
      file("k/f", "k"),
      symlink("k", "d"),
      file("k/via", "via k"),
    ]);
    expect(existsSync(`${root}/d/sub/f`)).toBe(false);
    expect(readFileSync(`${root}/d/sub/g`, "utf8")).toBe("d is a directory again");
    expect(lstatSync(`${root}/e`).isDirectory()).toBe(true);
    expect(readFileSync(`${root}/e/h`, "utf8")).toBe("in e");
    expect(readlinkSync(`${root}/k`)).toBe("d");
    expect(readFileSync(`${root}/d/via`, "utf8")).toBe("via k");
  });

  test("a whiteout of a remembered directory removes it; entries after it make it again", async () => {
    const root = tempDir("kitbuild-extract-");
    await extract(root, [file("p/q/f", "old"), file("p/.wh.q", ""), file("p/q/r/g", "new")]);
    expect(existsSync(`${root}/p/q/f`)).toBe(false);
    expect(readFileSync(`${root}/p/q/r/g`, "utf8")).toBe("new");
  });
});
