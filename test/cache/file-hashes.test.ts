// The context hash memo trusts an entry only while identity and times match, and never remembers
// a file that may still be changing within the clock's granularity.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { lstatSync, utimesSync, writeFileSync } from "node:fs";
import { FileHashMemo } from "../../src/cache/file-hashes.ts";
import { lstatEntry, memoIdentity } from "../../src/fs/entry-stat.ts";

const entryStat = (path: string) => memoIdentity(lstatEntry(path));
import { migrate } from "../../src/cache/schema.ts";
import { tempDir } from "../harness.ts";

function memo(): FileHashMemo {
  const db = new Database(":memory:");
  migrate(db);
  return new FileHashMemo(db);
}

describe("FileHashMemo", () => {
  test("an entry holds while the file is unchanged and is dropped by any change, ctime included", () => {
    const dir = tempDir();
    const file = `${dir}/f`;
    writeFileSync(file, "one");
    utimesSync(file, new Date(1e12), new Date(1e12));
    const m = memo();
    const st = entryStat(file);
    const later = st.ctimeMs + 10_000;
    m.set(file, st, "digest-one", later);
    expect(m.get(file, entryStat(file))).toBe("digest-one");
    writeFileSync(file, "two");
    utimesSync(file, new Date(1e12), new Date(1e12));
    const rewritten = entryStat(file);
    expect(rewritten.mtimeMs).toBe(st.mtimeMs);
    expect(lstatEntry(file).size).toBe(3);
    expect(m.get(file, rewritten)).toBeUndefined();
  });

  test("a file changed within the last moments is not remembered", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/f`, "x");
    const st = entryStat(`${dir}/f`);
    const m = memo();
    m.set(`${dir}/f`, st, "d", st.ctimeMs + 1);
    expect(m.get(`${dir}/f`, st)).toBeUndefined();
  });

  test("entries persist through flush and preload", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/f`, "x");
    const st = entryStat(`${dir}/f`);
    const db = new Database(":memory:");
    migrate(db);
    const a = new FileHashMemo(db);
    a.set(`${dir}/f`, st, "kept", st.ctimeMs + 10_000);
    a.flush();
    const b = new FileHashMemo(db);
    b.preload(dir);
    expect(b.get(`${dir}/f`, st)).toBe("kept");
  });
});

describe("memoIdentity", () => {
  test("is dev, ino, size, mtime and ctime in ns as lstat gives them, and the times in ms", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/f`, "twelve bytes");
    utimesSync(`${dir}/f`, new Date(1_234_567_890_123), new Date(1_234_567_890_987));
    for (const path of [`${dir}/f`, dir, "/dev/null"]) {
      const st = lstatSync(path, { bigint: true });
      const id = entryStat(path);
      expect(id.identity).toBe(`${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`);
      expect(Math.abs(id.mtimeMs - Number(st.mtimeNs) / 1e6)).toBeLessThan(0.001);
      expect(Math.abs(id.ctimeMs - Number(st.ctimeNs) / 1e6)).toBeLessThan(0.001);
    }
  });
});
