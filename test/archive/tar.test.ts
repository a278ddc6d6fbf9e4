// Writing and reading tar: kitbuild's writer and reader against each other and against GNU tar (an
// independent implementation): long and unicode names, mode 0 and setuid bits, large ids,
// nanosecond mtimes, hardlinks, devices, binary xattrs; deterministic bytes; SOURCE_DATE_EPOCH.
import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, linkSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { text } from "node:stream/consumers";
import { Readable } from "node:stream";
import { lgetxattr, lsetxattr, lutimesNs, mknod, S_IFCHR, S_IFIFO, makedev } from "../../src/fs/libc.ts";
import { packTree } from "../../src/archive/tar.ts";
import { readTar, type TarHeader } from "../../src/archive/tar-reader.ts";
import { TarWriter } from "../../src/archive/tar-writer.ts";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir } from "../harness.ts";

const skip = skipBecause(!IS_ROOT, `tar tests: ${NEEDS_ROOT} (owners, devices)`);
const signal = new AbortController().signal;
const LONG_DIR = "d".repeat(120);
const LONG_NAME = `${"n".repeat(60)}/${"m".repeat(130)}.txt`;
const BINARY_XATTR = Buffer.from([0x01, 0x00, 0x00, 0x02, 0xff, 0xfe, 0x80, 0x00]);

function tree(): string {
  const root = tempDir("kitbuild-tar-src-");
  mkdirSync(`${root}/${LONG_DIR}/sub`, { recursive: true });
  writeFileSync(`${root}/${LONG_DIR}/sub/deep.txt`, "deep");
  mkdirSync(`${root}/${"n".repeat(60)}`);
  writeFileSync(`${root}/${LONG_NAME}`, "long");
  writeFileSync(`${root}/ünïcødé 日本.txt`, "unicode");
  writeFileSync(`${root}/zero-mode`, "0");
  chmodSync(`${root}/zero-mode`, 0);
  writeFileSync(`${root}/setuid`, "#!/bin/sh\n");
  chmodSync(`${root}/setuid`, 0o4755);
  writeFileSync(`${root}/big-ids`, "ids");
  chownSync(`${root}/big-ids`, 2_000_000, 3_000_000);
  writeFileSync(`${root}/ns-time`, "t");
  lutimesNs(`${root}/ns-time`, 1_600_000_000_123_456_789n, 1_600_000_000_123_456_789n);
  writeFileSync(`${root}/hard-a`, "same inode");
  linkSync(`${root}/hard-a`, `${root}/hard-b`);
  symlinkSync(`../${"t".repeat(150)}`, `${root}/long-link`);
  mknod(`${root}/fifo`, S_IFIFO | 0o600);
  mknod(`${root}/null`, S_IFCHR | 0o666, makedev(1, 3));
  mknod(`${root}/pts`, S_IFCHR | 0o620, makedev(136, 3));
  mknod(`${root}/wide`, S_IFCHR | 0o600, makedev(4000, 70_000));
  writeFileSync(`${root}/xattr`, "x");
  lsetxattr(`${root}/xattr`, "user.binary", BINARY_XATTR);
  return root;
}

async function archive(root: string, sourceDateEpoch?: number): Promise<Buffer> {
  const tar = new TarWriter();
  const bytes = (async () => Buffer.concat(await Array.fromAsync(tar.stream as AsyncIterable<Buffer>)))();
  await packTree(root, tar, { signal, sourceDateEpoch });
  await tar.finish();
  return bytes;
}

async function headers(bytes: Buffer): Promise<Map<string, TarHeader & { content: string }>> {
  const out = new Map<string, TarHeader & { content: string }>();
  for await (const { header, body } of readTar(Readable.from([bytes]))) out.set(header.name, { ...header, content: await text(body) });
  return out;
}

describe.skipIf(skip)("tar writer and reader", () => {
  test("entries round-trip through kitbuild's reader with every field", async () => {
    const h = await headers(await archive(tree()));
    expect([...h.keys()]).toContain(`${LONG_DIR}/sub/deep.txt`);
    expect(h.get(LONG_NAME)?.content).toBe("long");
    expect(h.get("ünïcødé 日本.txt")?.content).toBe("unicode");
    expect(h.get("zero-mode")?.mode).toBe(0);
    expect(h.get("setuid")?.mode).toBe(0o4755);
    expect(h.get("big-ids")).toMatchObject({ uid: 2_000_000, gid: 3_000_000 });
    expect(h.get("ns-time")?.mtimeNs).toBe(1_600_000_000_123_456_789n);
    expect(h.get("hard-b")).toMatchObject({ type: "link", linkname: "hard-a" });
    expect(h.get("long-link")).toMatchObject({ type: "symlink", linkname: `../${"t".repeat(150)}` });
    expect(h.get("fifo")?.type).toBe("fifo");
    expect(h.get("null")).toMatchObject({ type: "character-device", devmajor: 1, devminor: 3 });
    expect(h.get("pts")).toMatchObject({ type: "character-device", devmajor: 136, devminor: 3 });
    expect(h.get("wide")).toMatchObject({ type: "character-device", devmajor: 4000, devminor: 70_000 });
    expect(h.get("xattr")?.xattrs.get("user.binary")).toEqual(BINARY_XATTR);
    // Byte order of names, as Go sorts them: "hard-a" before "hard-b", ASCII before "ü".
    const names = [...h.keys()];
    expect(names.indexOf("hard-a")).toBeLessThan(names.indexOf("hard-b"));
    expect(names.indexOf("zero-mode")).toBeLessThan(names.indexOf("ünïcødé 日本.txt"));
  });

  test("GNU tar reads the archive to the same tree, binary xattrs included", async () => {
    const src = tree();
    const file = `${tempDir()}/a.tar`;
    writeFileSync(file, await archive(src));
    const out = tempDir("kitbuild-tar-gnu-");
    execFileSync("tar", ["--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", file, "-C", out]);
    for (const p of [`${LONG_DIR}/sub/deep.txt`, LONG_NAME, "ünïcødé 日本.txt", "hard-a"]) {
      expect(readFileSync(`${out}/${p}`)).toEqual(readFileSync(`${src}/${p}`));
    }
    expect(lstatSync(`${out}/zero-mode`).mode & 0o7777).toBe(0);
    expect(lstatSync(`${out}/setuid`).mode & 0o7777).toBe(0o4755);
    expect(lstatSync(`${out}/big-ids`)).toMatchObject({ uid: 2_000_000, gid: 3_000_000 });
    expect(lstatSync(`${out}/ns-time`, { bigint: true }).mtimeNs).toBe(1_600_000_000_123_456_789n);
    expect(lstatSync(`${out}/hard-b`).ino).toBe(lstatSync(`${out}/hard-a`).ino);
    expect(lgetxattr(`${out}/xattr`, "user.binary")).toEqual(BINARY_XATTR);
    // Device numbers as GNU tar reads them (a major of 16 or more was written wrong before).
    for (const name of ["null", "pts", "wide"]) expect(lstatSync(`${out}/${name}`).rdev).toBe(lstatSync(`${src}/${name}`).rdev);
  });

  test("the same tree gives the same bytes; SOURCE_DATE_EPOCH clamps later mtimes only", async () => {
    const src = tree();
    expect(await archive(src)).toEqual(await archive(src));
    const h = await headers(await archive(src, 1_500_000_000));
    expect(h.get("ns-time")?.mtimeNs).toBe(1_500_000_000_000_000_000n);
    lutimesNs(`${src}/hard-a`, 1_000_000_000_000_000_000n, 1_000_000_000_000_000_000n);
    expect((await headers(await archive(src, 1_500_000_000))).get("hard-a")?.mtimeNs).toBe(1_000_000_000_000_000_000n);
  });

  test("kitbuild's reader reads what GNU tar writes, in its gnu and posix formats", async () => {
    const src = tree();
    for (const format of ["gnu", "posix"]) {
      const bytes = execFileSync("tar", [`--format=${format}`, "--xattrs", "--xattrs-include=*", "--numeric-owner", "-cf", "-", "-C", src, "."], { maxBuffer: 1 << 26 });
      const h = await headers(bytes);
      expect(h.get(`./${LONG_NAME}`)?.content).toBe("long");
      expect(h.get("./ünïcødé 日本.txt")?.content).toBe("unicode");
      expect(h.get("./big-ids")).toMatchObject({ uid: 2_000_000, gid: 3_000_000 });
      expect(h.get("./zero-mode")?.mode).toBe(0);
      expect(h.get("./hard-b") ?? h.get("./hard-a")).toMatchObject({ type: "link" });
      expect(h.get("./null")).toMatchObject({ type: "character-device", devmajor: 1, devminor: 3 });
      if (format === "posix") {
        expect(h.get("./ns-time")?.mtimeNs).toBe(1_600_000_000_123_456_789n);
        expect(h.get("./xattr")?.xattrs.get("user.binary")).toEqual(BINARY_XATTR);
      }
    }
  });
});
