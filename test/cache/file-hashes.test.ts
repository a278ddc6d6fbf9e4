// The context hash memo trusts an entry only while identity and times match, never remembers a
// file that may still be changing within the clock's granularity, and keeps a directory's entries
// in one file of the cache root that another process (or the next build) loads.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { FileHashMemo, memoFile } from "../../src/cache/file-hashes.ts";
import { lstatEntry } from "../../src/fs/entry-stat.ts";
import { tempDir } from "../harness.ts";

/** A fresh cache root. */
const cacheRoot = () => tempDir("kitbuild-memo-root-");

const memo = (root: string, dir: string) => new FileHashMemo(root, dir);
/** A time well after the entry's, so it is not taken for one still changing. */
const later = (path: string) => lstatEntry(path).ctimeSec * 1000 + 10_000;

describe("FileHashMemo", () => {
  test("an entry holds while the file is unchanged and is dropped by any change, ctime included", () => {
    const dir = tempDir();
    const file = `${dir}/f`;
    writeFileSync(file, "one");
    utimesSync(file, new Date(1e12), new Date(1e12));
    const m = memo(cacheRoot(), dir);
    const st = lstatEntry(file);
    m.set(file, st, "digest-one", later(file));
    expect(m.get(file, lstatEntry(file))).toBe("digest-one");
    writeFileSync(file, "two");
    utimesSync(file, new Date(1e12), new Date(1e12));
    const rewritten = lstatEntry(file);
    expect([rewritten.mtimeSec, rewritten.mtimeNsec, rewritten.size]).toEqual([st.mtimeSec, st.mtimeNsec, st.size]);
    expect(m.get(file, rewritten)).toBeUndefined();
  });

  test("a file changed within the last moments is not remembered", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/f`, "x");
    const st = lstatEntry(`${dir}/f`);
    const m = memo(cacheRoot(), dir);
    m.set(`${dir}/f`, st, "d", st.ctimeSec * 1000 + st.ctimeNsec / 1e6 + 1);
    expect(m.get(`${dir}/f`, st)).toBeUndefined();
  });

  test("entries persist through a flush: a stale one is replaced, a gone one dropped, an unread one kept", () => {
    const dir = tempDir();
    for (const name of ["a", "b", "c", "d"]) writeFileSync(`${dir}/${name}`, name);
    const root = cacheRoot();
    const first = memo(root, dir);
    for (const name of ["a", "b", "c", "d"]) first.set(`${dir}/${name}`, lstatEntry(`${dir}/${name}`), `digest-${name}`, later(`${dir}/${name}`));
    first.flush();
    writeFileSync(`${dir}/b`, "changed");
    rmSync(`${dir}/c`);
    const second = memo(root, dir);
    expect(second.get(`${dir}/a`, lstatEntry(`${dir}/a`))).toBe("digest-a");
    expect(second.get(`${dir}/b`, lstatEntry(`${dir}/b`))).toBeUndefined();
    second.set(`${dir}/b`, lstatEntry(`${dir}/b`), "digest-b2", later(`${dir}/b`));
    second.flush();
    const third = memo(root, dir);
    expect(["a", "b", "d"].map((n) => third.get(`${dir}/${n}`, lstatEntry(`${dir}/${n}`)))).toEqual(["digest-a", "digest-b2", "digest-d"]);
    const size = statSync(memoFile(root, dir)).size;
    writeFileSync(`${dir}/c`, "c");
    third.set(`${dir}/c`, lstatEntry(`${dir}/c`), "digest-c", later(`${dir}/c`));
    third.flush();
    expect(statSync(memoFile(root, dir)).size).toBeGreaterThan(size);
    // Written through a temporary file of this process, renamed over the memo: none is left.
    expect(readdirSync(`${root}/tmp`)).toEqual([]);
  });

  test("entries are found whatever order they are asked in, with digests of any length", () => {
    const dir = tempDir();
    mkdirSync(`${dir}/a`);
    const names = ["a.txt", "a/b", "a/c", "a-b", "b"];
    for (const n of names) writeFileSync(`${dir}/${n}`, n);
    const sha = (n: string) => Bun.CryptoHasher.hash("sha256", n, "hex");
    for (const digest of [sha, (n: string) => `short-${n}`]) {
      const root = cacheRoot();
      const first = memo(root, dir);
      for (const n of names) first.set(`${dir}/${n}`, lstatEntry(`${dir}/${n}`), digest(n), later(`${dir}/${n}`));
      first.flush();
      for (const order of [names, [...names].reverse(), ["a/c", "b", "a.txt", "a/b", "a-b"]]) {
        const m = memo(root, dir);
        expect(order.map((n) => m.get(`${dir}/${n}`, lstatEntry(`${dir}/${n}`)))).toEqual(order.map(digest));
      }
    }
  });

  test("paths outside the directory are not remembered, and each directory has its own file", () => {
    const [one, two] = [tempDir(), tempDir()];
    writeFileSync(`${one}/f`, "1");
    writeFileSync(`${two}/f`, "2");
    const root = cacheRoot();
    const m = memo(root, one);
    m.set(`${two}/f`, lstatEntry(`${two}/f`), "elsewhere", later(`${two}/f`));
    m.set(`${one}/f`, lstatEntry(`${one}/f`), "here", later(`${one}/f`));
    expect(m.get(`${two}/f`, lstatEntry(`${two}/f`))).toBeUndefined();
    m.flush();
    expect(memo(root, two).get(`${two}/f`, lstatEntry(`${two}/f`))).toBeUndefined();
    expect(memo(root, one).get(`${one}/f`, lstatEntry(`${one}/f`))).toBe("here");
  });

  test("a damaged, foreign or empty file starts an empty memo", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/f`, "x");
    const root = cacheRoot();
    const good = memo(root, dir);
    good.set(`${dir}/f`, lstatEntry(`${dir}/f`), "kept", later(`${dir}/f`));
    good.flush();
    expect(memo(root, dir).get(`${dir}/f`, lstatEntry(`${dir}/f`))).toBe("kept");
    for (const bad of [new Uint8Array([9, 0, 0, 0]), new Uint8Array(40).fill(1), new Uint8Array(0)]) {
      writeFileSync(memoFile(root, dir), bad);
      expect(memo(root, dir).get(`${dir}/f`, lstatEntry(`${dir}/f`))).toBeUndefined();
    }
  });

  test("a memo that cannot be written leaves the build as it was", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/f`, "x");
    const root = cacheRoot();
    // The memo's directory is a file here: the rename into it fails.
    writeFileSync(`${root}/context-memos`, "");
    const m = memo(root, dir);
    m.set(`${dir}/f`, lstatEntry(`${dir}/f`), "d", later(`${dir}/f`));
    expect(() => m.flush()).not.toThrow();
    expect(readdirSync(`${root}/tmp`)).toEqual([]);
  });

  test("paths beyond ASCII and digests of other lengths are read back as written", () => {
    const dir = tempDir();
    mkdirSync(`${dir}/é dir`);
    const files = ["é dir/ü.txt", "plain.txt", "日本.txt"];
    for (const f of files) writeFileSync(`${dir}/${f}`, f);
    const root = cacheRoot();
    const first = memo(root, dir);
    files.forEach((f, i) => first.set(`${dir}/${f}`, lstatEntry(`${dir}/${f}`), i === 1 ? "short" : `digest-${f}`, later(`${dir}/${f}`)));
    first.flush();
    const second = memo(root, dir);
    expect(files.map((f) => second.get(`${dir}/${f}`, lstatEntry(`${dir}/${f}`)))).toEqual(["digest-é dir/ü.txt", "short", "digest-日本.txt"]);

    // sha256 digests, all 64 characters: read in place.
    const hex = (f: string) => Bun.CryptoHasher.hash("sha256", f, "hex");
    const hexRoot = cacheRoot();
    const third = memo(hexRoot, dir);
    for (const f of files) third.set(`${dir}/${f}`, lstatEntry(`${dir}/${f}`), hex(f), later(`${dir}/${f}`));
    third.flush();
    const fourth = memo(hexRoot, dir);
    expect(files.map((f) => fourth.get(`${dir}/${f}`, lstatEntry(`${dir}/${f}`)))).toEqual(files.map(hex));
  });
});
