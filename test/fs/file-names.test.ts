// File names that are not valid UTF-8: kitbuild cannot carry them yet, so a walk that meets one
// stops with an error that shows the name's bytes, never "ENOENT" on a mangled name.
import { describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, writeFileSync } from "node:fs";
import { quoteBytes, undecodableNameError } from "../../src/fs/file-names.ts";
import { lstatOrUndefined } from "../../src/fs/copy-tree.ts";
import { tempDir } from "../harness.ts";

describe("file names that are not UTF-8", () => {
  test("quoteBytes escapes bad bytes as Go's %q does and keeps valid UTF-8", () => {
    expect(quoteBytes(Buffer.from([0x61, 0xff, 0xfe, 0x62]))).toBe('"a\\xff\\xfeb"');
    expect(quoteBytes(Buffer.from("é✓😀", "utf8"))).toBe('"é✓😀"');
    // A truncated sequence and an overlong encoding are bad bytes too.
    expect(quoteBytes(Buffer.from([0xc3]))).toBe('"\\xc3"');
    expect(quoteBytes(Buffer.from([0xe2, 0x9c]))).toBe('"\\xe2\\x9c"');
    expect(quoteBytes(Buffer.from([0xc0, 0xaf]))).toBe('"\\xc0\\xaf"');
    expect(quoteBytes(Buffer.from('a"\\\n', "utf8"))).toBe('"a\\"\\\\\\x0a"');
  });

  test("a path read back lossily from readdir is reported with its bytes", () => {
    const dir = tempDir();
    const raw = Buffer.concat([Buffer.from(`${dir}/sub/bad`), Buffer.from([0xff]), Buffer.from(".txt")]);
    mkdirSync(`${dir}/sub`);
    writeFileSync(raw, "x");
    const lossy = `${dir}/sub/bad\uFFFD.txt`;
    let thrown: unknown;
    try {
      lstatSync(lossy);
    } catch (e) {
      thrown = e;
    }
    const err = undecodableNameError(lossy, thrown);
    expect(err?.code).toBe("E_FS_NAME_NOT_UTF8");
    expect(err?.message).toBe(`file name is not valid UTF-8: "${dir}/sub/bad\\xff.txt"`);
    expect(() => lstatOrUndefined(lossy)).toThrow("not valid UTF-8");
    // A path that is simply missing stays missing.
    expect(lstatOrUndefined(`${dir}/sub/other\uFFFD.txt`)).toBeUndefined();
    writeFileSync(`${dir}/plain`, "");
    expect(undecodableNameError(`${dir}/missing`, thrown)).toBeUndefined();
  });
});
