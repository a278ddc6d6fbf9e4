// The context hash memo trusts an entry only while identity and times match, and never remembers
// a file that may still be changing within the clock's granularity.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { lstatSync, utimesSync, writeFileSync } from "node:fs";
import { FileHashMemo } from "../../src/cache/file-hashes.ts";
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
    const st = lstatSync(file, { bigint: true });
    const later = st.ctimeNs + 10_000_000_000n;
    m.set(file, st, "digest-one", later);
    expect(m.get(file, lstatSync(file, { bigint: true }))).toBe("digest-one");
    writeFileSync(file, "two");
    utimesSync(file, new Date(1e12), new Date(1e12));
    const rewritten = lstatSync(file, { bigint: true });
    expect(rewritten.mtimeNs).toBe(st.mtimeNs);
    expect(rewritten.size).toBe(st.size);
    expect(m.get(file, rewritten)).toBeUndefined();
  });

  test("a file changed within the last moments is not remembered", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/f`, "x");
    const st = lstatSync(`${dir}/f`, { bigint: true });
    const m = memo();
    m.set(`${dir}/f`, st, "d", st.ctimeNs + 1_000_000n);
    expect(m.get(`${dir}/f`, st)).toBeUndefined();
  });

  test("entries persist through flush and preload", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/f`, "x");
    const st = lstatSync(`${dir}/f`, { bigint: true });
    const db = new Database(":memory:");
    migrate(db);
    const a = new FileHashMemo(db);
    a.set(`${dir}/f`, st, "kept", st.ctimeNs + 10_000_000_000n);
    a.flush();
    const b = new FileHashMemo(db);
    b.preload(dir);
    expect(b.get(`${dir}/f`, st)).toBe("kept");
  });
});
