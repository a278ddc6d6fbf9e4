// copyNewFile: a small file copied by calls on open files gets the same data and metadata as the
// path-based copy (owner, set-id bits after the chown, nanosecond times, xattrs in either order), and
// anything already at the destination (file, directory, dangling symlink) is left alone: false.
import { describe, expect, test } from "bun:test";
import { appendFileSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { copyNewFile, type NewFileMeta } from "../../src/fs/copy-new-file.ts";
import { lgetxattr, llistxattr, lsetxattr } from "../../src/fs/libc.ts";
import { IS_ROOT, tempDir } from "../harness.ts";

const T = 1_700_000_000_123_456_789n;
const meta = (over: Partial<NewFileMeta> = {}): NewFileMeta => ({ owner: undefined, mode: 0o640, atimeNs: T, mtimeNs: T + 1n, xattrs: "last", ...over });

/** Whether this filesystem takes user xattrs (tmpfs before 6.6 does not). */
function withUserXattr(path: string): boolean {
  try {
    lsetxattr(path, "user.kitbuild", Buffer.from([0, 1, 255]));
    lsetxattr(path, "user.empty", Buffer.alloc(0));
    return true;
  } catch {
    return false;
  }
}

describe("copyNewFile", () => {
  test("copies data, mode, nanosecond times and xattrs to a new file", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/src`, "hello\n");
    const xattrs = withUserXattr(`${dir}/src`);
    for (const order of ["last", "before-mode"] as const) {
      expect(copyNewFile(`${dir}/src`, `${dir}/dst-${order}`, 6, meta({ xattrs: order }))).toBe(true);
      const st = lstatSync(`${dir}/dst-${order}`, { bigint: true });
      expect(readFileSync(`${dir}/dst-${order}`, "utf8")).toBe("hello\n");
      expect(Number(st.mode & 0o7777n)).toBe(0o640);
      expect([st.atimeNs, st.mtimeNs]).toEqual([T, T + 1n]);
      if (xattrs) {
        expect(llistxattr(`${dir}/dst-${order}`).sort()).toEqual(["user.empty", "user.kitbuild"]);
        expect(lgetxattr(`${dir}/dst-${order}`, "user.kitbuild")).toEqual(Buffer.from([0, 1, 255]));
      }
    }
    expect(copyNewFile(`${dir}/src`, `${dir}/dst-none`, 6, meta({ xattrs: "none" }))).toBe(true);
    expect(llistxattr(`${dir}/dst-none`)).toEqual([]);
  });

  test.skipIf(!IS_ROOT)("sets the owner, then set-id bits and a mode the umask would have cut", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/src`, "x");
    expect(copyNewFile(`${dir}/src`, `${dir}/dst`, 1, meta({ owner: { uid: 1234, gid: 5678 }, mode: 0o6777 }))).toBe(true);
    const st = lstatSync(`${dir}/dst`);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([1234, 5678, 0o6777]);
  });

  test("reads the whole file whatever size it was said to have: empty, grown, larger than the buffer", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/empty`, "");
    expect(copyNewFile(`${dir}/empty`, `${dir}/empty-copy`, 0, meta())).toBe(true);
    expect(lstatSync(`${dir}/empty-copy`).size).toBe(0);
    const big = Buffer.alloc(700_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    writeFileSync(`${dir}/grown`, big.subarray(0, 10));
    appendFileSync(`${dir}/grown`, big.subarray(10));
    expect(copyNewFile(`${dir}/grown`, `${dir}/grown-copy`, 10, meta())).toBe(true);
    expect(readFileSync(`${dir}/grown-copy`).equals(big)).toBe(true);
  });

  test("leaves what is at the destination alone and says so: a file, a directory, a dangling symlink", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/src`, "new");
    writeFileSync(`${dir}/file`, "old");
    mkdirSync(`${dir}/dir`);
    symlinkSync(`${dir}/nowhere`, `${dir}/link`);
    for (const name of ["file", "dir", "link"]) expect(copyNewFile(`${dir}/src`, `${dir}/${name}`, 3, meta())).toBe(false);
    expect(readFileSync(`${dir}/file`, "utf8")).toBe("old");
    expect(readlinkSync(`${dir}/link`)).toBe(`${dir}/nowhere`);
    expect(() => lstatSync(`${dir}/nowhere`)).toThrow();
  });

  test("a source that is a symlink is not followed", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/target`, "t");
    symlinkSync("target", `${dir}/src`);
    expect(() => copyNewFile(`${dir}/src`, `${dir}/dst`, 1, meta())).toThrow(expect.objectContaining({ code: "ELOOP" }));
    expect(() => lstatSync(`${dir}/dst`)).toThrow();
  });
});
