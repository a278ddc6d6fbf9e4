// The context hash memo trusts an entry only while identity and times match, never remembers a
// file that may still be changing within the clock's granularity, and keeps a directory's entries
// in one row that another process (or the next build) loads.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { FileHashMemo } from "../../src/cache/file-hashes.ts";
import { lstatEntry } from "../../src/fs/entry-stat.ts";
import { migrate } from "../../src/cache/schema.ts";
import { tempDir } from "../harness.ts";

function database(): Database {
  const db = new Database(":memory:");
  migrate(db);
  return db;
}

const memo = (db: Database, dir: string) => new FileHashMemo(db, dir);
/** A time well after the entry's, so it is not taken for one still changing. */
const later = (path: string) => lstatEntry(path).ctimeSec * 1000 + 10_000;

describe("FileHashMemo", () => {
  test("an entry holds while the file is unchanged and is dropped by any change, ctime included", () => {
    const dir = tempDir();
    const file = `${dir}/f`;
    writeFileSync(file, "one");
    utimesSync(file, new Date(1e12), new Date(1e12));
    const m = memo(database(), dir);
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
    const m = memo(database(), dir);
    m.set(`${dir}/f`, st, "d", st.ctimeSec * 1000 + st.ctimeNsec / 1e6 + 1);
    expect(m.get(`${dir}/f`, st)).toBeUndefined();
  });

  test("entries persist through a flush: a stale one is replaced, a gone one dropped, an unread one kept", () => {
    const dir = tempDir();
    for (const name of ["a", "b", "c", "d"]) writeFileSync(`${dir}/${name}`, name);
    const db = database();
    const first = memo(db, dir);
    for (const name of ["a", "b", "c", "d"]) first.set(`${dir}/${name}`, lstatEntry(`${dir}/${name}`), `digest-${name}`, later(`${dir}/${name}`));
    first.flush();
    writeFileSync(`${dir}/b`, "changed");
    rmSync(`${dir}/c`);
    const second = memo(db, dir);
    expect(second.get(`${dir}/a`, lstatEntry(`${dir}/a`))).toBe("digest-a");
    expect(second.get(`${dir}/b`, lstatEntry(`${dir}/b`))).toBeUndefined();
    second.set(`${dir}/b`, lstatEntry(`${dir}/b`), "digest-b2", later(`${dir}/b`));
    second.flush();
    const third = memo(db, dir);
    expect(["a", "b", "d"].map((n) => third.get(`${dir}/${n}`, lstatEntry(`${dir}/${n}`)))).toEqual(["digest-a", "digest-b2", "digest-d"]);
    const row = db.query("SELECT length(entries) AS n FROM context_memos WHERE dir = ?").get(dir) as { n: number };
    writeFileSync(`${dir}/c`, "c");
    third.set(`${dir}/c`, lstatEntry(`${dir}/c`), "digest-c", later(`${dir}/c`));
    third.flush();
    const grown = db.query("SELECT length(entries) AS n FROM context_memos WHERE dir = ?").get(dir) as { n: number };
    expect(grown.n).toBeGreaterThan(row.n);
  });

  test("entries are found whatever order they are asked in, with digests of any length", () => {
    const dir = tempDir();
    mkdirSync(`${dir}/a`);
    const names = ["a.txt", "a/b", "a/c", "a-b", "b"];
    for (const n of names) writeFileSync(`${dir}/${n}`, n);
    const sha = (n: string) => Bun.CryptoHasher.hash("sha256", n, "hex");
    for (const digest of [sha, (n: string) => `short-${n}`]) {
      const db = database();
      const first = memo(db, dir);
      for (const n of names) first.set(`${dir}/${n}`, lstatEntry(`${dir}/${n}`), digest(n), later(`${dir}/${n}`));
      first.flush();
      for (const order of [names, [...names].reverse(), ["a/c", "b", "a.txt", "a/b", "a-b"]]) {
        const m = memo(db, dir);
        expect(order.map((n) => m.get(`${dir}/${n}`, lstatEntry(`${dir}/${n}`)))).toEqual(order.map(digest));
      }
    }
  });

  test("paths outside the directory are not remembered, and each directory has its own row", () => {
    const [one, two] = [tempDir(), tempDir()];
    writeFileSync(`${one}/f`, "1");
    writeFileSync(`${two}/f`, "2");
    const db = database();
    const m = memo(db, one);
    m.set(`${two}/f`, lstatEntry(`${two}/f`), "elsewhere", later(`${two}/f`));
    m.set(`${one}/f`, lstatEntry(`${one}/f`), "here", later(`${one}/f`));
    expect(m.get(`${two}/f`, lstatEntry(`${two}/f`))).toBeUndefined();
    m.flush();
    expect(memo(db, two).get(`${two}/f`, lstatEntry(`${two}/f`))).toBeUndefined();
    expect(memo(db, one).get(`${one}/f`, lstatEntry(`${one}/f`))).toBe("here");
  });

  test("a damaged or foreign row starts an empty memo", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/f`, "x");
    const db = database();
    for (const bad of [new Uint8Array([9, 0, 0, 0]), new Uint8Array(40).fill(1)]) {
      db.query("INSERT OR REPLACE INTO context_memos (dir, entries) VALUES (?, ?)").run(dir, bad);
      expect(memo(db, dir).get(`${dir}/f`, lstatEntry(`${dir}/f`))).toBeUndefined();
    }
  });
});
