// copyTree: file data is copied in the background, several files at once, yet the result is the
// same as a one-by-one copy: data, modes, times to the nanosecond, hardlinks, symlinks, fifos,
// xattrs; a destination that exists is merged into, replacing what is in the way.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync, linkSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { copyTree } from "../../src/fs/copy-tree.ts";
import { lgetxattr, lsetxattr, lutimesNs, mknod, S_IFIFO } from "../../src/fs/libc.ts";

let work: string;
beforeEach(() => {
  work = mkdtempSync(`${tmpdir()}/kitbuild-copy-tree-`);
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const T = 1_700_000_000_123_456_789n;

/** A tree with many files (more than are copied at once), links of every kind and odd modes. */
function makeTree(src: string): void {
  mkdirSync(`${src}/a/b`, { recursive: true });
  for (let i = 0; i < 40; i++) writeFileSync(`${src}/a/f${i}`, `file ${i}\n`.repeat(i * 100));
  // Files of 256 KiB and more are copied in the background, several at once.
  for (let i = 0; i < 6; i++) writeFileSync(`${src}/a/m${i}`, Buffer.alloc(300_000 + i, i + 1));
  writeFileSync(`${src}/a/b/big`, Buffer.alloc(3 << 20, 7));
  linkSync(`${src}/a/b/big`, `${src}/big-link`);
  linkSync(`${src}/a/f3`, `${src}/a/b/f3-link`);
  symlinkSync("../a/f1", `${src}/a/b/sym`);
  mknod(`${src}/a/fifo`, S_IFIFO | 0o640);
  chmodSync(`${src}/a/f5`, 0o4755);
  chmodSync(`${src}/a/b`, 0o750);
  try {
    lsetxattr(`${src}/a/f7`, "user.kitbuild", Buffer.from([0, 1, 2, 255]));
  } catch {
    // a filesystem without user xattrs: the xattr check below is skipped
  }
  for (const p of ["a/f2", "a/b/big", "a/b", "a"]) lutimesNs(`${src}/${p}`, T, T + 1000n);
}

function describeTree(root: string, names: string[]) {
  return names.map((n) => {
    const st = lstatSync(`${root}/${n}`, { bigint: true });
    return { n, mode: st.mode, mtime: st.mtimeNs, size: st.size, nlink: st.nlink };
  });
}

const NAMES = ["a", "a/b", "a/f0", "a/f2", "a/f5", "a/f39", "a/m0", "a/m5", "a/b/big", "big-link", "a/b/f3-link", "a/b/sym", "a/fifo"];

describe("copyTree", () => {
  test("copies data, modes, times, hardlinks, symlinks, fifos and xattrs into a new destination", async () => {
    const src = `${work}/src`;
    makeTree(src);
    await copyTree(src, `${work}/dst`, { preserveOwner: true, xattrs: true });
    expect(describeTree(`${work}/dst`, NAMES)).toEqual(describeTree(src, NAMES));
    for (let i = 0; i < 40; i++) expect(readFileSync(`${work}/dst/a/f${i}`, "utf8")).toBe(`file ${i}\n`.repeat(i * 100));
    for (let i = 0; i < 6; i++) expect(readFileSync(`${work}/dst/a/m${i}`).equals(Buffer.alloc(300_000 + i, i + 1))).toBe(true);
    expect(lstatSync(`${work}/dst/big-link`).ino).toBe(lstatSync(`${work}/dst/a/b/big`).ino);
    expect(lstatSync(`${work}/dst/a/b/f3-link`).ino).toBe(lstatSync(`${work}/dst/a/f3`).ino);
    expect(readlinkSync(`${work}/dst/a/b/sym`)).toBe("../a/f1");
    const x = lgetxattr(`${src}/a/f7`, "user.kitbuild");
    if (x) expect(lgetxattr(`${work}/dst/a/f7`, "user.kitbuild")).toEqual(x);
  });

  test("merges into an existing destination, replacing a file by a directory and a directory by a file", async () => {
    const src = `${work}/src`;
    makeTree(src);
    const dst = `${work}/dst`;
    mkdirSync(`${dst}/a/f0/deep`, { recursive: true }); // a directory where the source has a file
    writeFileSync(`${dst}/a/b`, "a file where the source has a directory");
    writeFileSync(`${dst}/a/f1`, "old contents that are longer than the new ones".repeat(100));
    writeFileSync(`${dst}/kept`, "not in the source");
    await copyTree(src, dst, { preserveOwner: true, xattrs: true, keepExistingRoot: true });
    expect(describeTree(dst, NAMES)).toEqual(describeTree(src, NAMES));
    expect(readFileSync(`${dst}/a/f1`, "utf8")).toBe("file 1\n".repeat(100));
    expect(readFileSync(`${dst}/kept`, "utf8")).toBe("not in the source");
  });

  test("a destination that cannot be created is an error, not a hang", async () => {
    const src = `${work}/src`;
    makeTree(src);
    writeFileSync(`${work}/not-a-dir`, "");
    const err = await copyTree(src, `${work}/not-a-dir/dst`, { preserveOwner: true, xattrs: true }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe("ENOTDIR");
  });
});
