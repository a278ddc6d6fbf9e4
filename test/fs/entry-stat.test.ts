// lstatEntry (statx through bun:ffi) against node's lstatSync for every kind of entry: the same type,
// mode, owner, size, link count, nanosecond time (also before 1970), device number, inode number and key;
// errors as lstatSync's; and the lstatSync fallback (where statx fails) gives the same facts.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { describe, expect, test } from "bun:test";
import { chownSync, linkSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { closeDirectory, entryStatOf, inodeKey, isCharacterDevice, lstatEntry, lstatEntryAt, openDirectory, scratchEntryStat, useStatx } from "../../src/fs/entry-stat.ts";
import { llistxattr, lsetxattr, lutimesNs, makedev, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from "../../src/fs/libc.ts";
import { IS_ROOT, tempDir } from "../harness.ts";

/** Sets a time before 1970 with a fraction: libc.ts's lutimesNs cannot (it truncates toward zero). */
function setTimeSpec(path: string, sec: bigint, nsec: bigint): void {
  const lib = dlopen("libc.so.6", { utimensat: { args: [FFIType.i32, FFIType.cstring, FFIType.ptr, FFIType.i32], returns: FFIType.i32 } });
  const ts = new BigInt64Array([sec, nsec, sec, nsec]);
  expect(lib.symbols.utimensat(-100, ptr(Buffer.from(`${path}\0`)), ptr(ts), 0x100)).toBe(0);
  lib.close();
}

function tree(): string[] {
  const root = tempDir("kitbuild-entry-stat-");
  mkdirSync(`${root}/dir`);
  writeFileSync(`${root}/file`, "x".repeat(5000));
  writeFileSync(`${root}/empty`, "");
  linkSync(`${root}/file`, `${root}/hardlink`);
  symlinkSync("../somewhere/else", `${root}/symlink`);
  mknod(`${root}/fifo`, S_IFIFO | 0o640);
  writeFileSync(`${root}/ns`, "t");
  lutimesNs(`${root}/ns`, 1_600_000_000_123_456_789n, 1_600_000_000_123_456_789n);
  writeFileSync(`${root}/before-1970`, "t");
  setTimeSpec(`${root}/before-1970`, -3n, 500_000_000n);
  writeFileSync(`${root}/unicode-é-日本`, "u");
  const paths = ["dir", "file", "empty", "hardlink", "symlink", "fifo", "ns", "before-1970", "unicode-é-日本"];
  if (IS_ROOT) {
    mknod(`${root}/null`, S_IFCHR | 0o666, makedev(1, 3));
    mknod(`${root}/big-dev`, S_IFCHR | 0o600, makedev(136, 300));
    mknod(`${root}/huge-dev`, S_IFBLK | 0o600, makedev(4000, 70_000));
    mknod(`${root}/whiteout`, S_IFCHR, makedev(0, 0));
    chownSync(`${root}/file`, 2_000_000, 3_000_000);
    paths.push("null", "big-dev", "huge-dev", "whiteout");
  }
  return paths.map((p) => `${root}/${p}`);
}

describe("lstatEntry", () => {
  test("gives what lstatSync gives, for every kind of entry", () => {
    for (const path of tree()) {
      const ours = lstatEntry(path);
      const node = lstatSync(path, { bigint: true });
      expect(ours).toEqual(entryStatOf(node));
      expect(BigInt(ours.mtimeSec) * 1_000_000_000n + BigInt(ours.mtimeNsec)).toBe(node.mtimeNs);
      expect(BigInt(ours.ino)).toBe(node.ino);
      expect(ours.mtimeNsec).toBeGreaterThanOrEqual(0);
      expect(ours.mtimeNsec).toBeLessThan(1_000_000_000);
      if (isCharacterDevice(ours)) expect(ours.rdev).toBe(Number(node.rdev));
    }
  });

  test("an inode number is a number, a bigint past 2^53 (kept exact, so hardlinks are still told apart)", () => {
    const [, file] = tree() as string[];
    const node = lstatSync(file as string, { bigint: true });
    expect(typeof lstatEntry(file as string).ino).toBe("number");
    const huge = 2n ** 60n + 7n;
    const st = entryStatOf(Object.assign(Object.create(Object.getPrototypeOf(node)), node, { ino: huge }));
    expect(st.ino).toBe(huge);
    expect(inodeKey(st)).toBe(`${st.dev}:1152921504606846983`);
    const next = entryStatOf(Object.assign(Object.create(Object.getPrototypeOf(node)), node, { ino: huge + 1n }));
    expect(inodeKey(next)).not.toBe(inodeKey(st));
  });

  test("hardlinks share an inode key, other files do not", () => {
    const [, file, empty, hardlink] = tree() as string[];
    expect(inodeKey(lstatEntry(file as string))).toBe(inodeKey(lstatEntry(hardlink as string)));
    expect(inodeKey(lstatEntry(file as string))).not.toBe(inodeKey(lstatEntry(empty as string)));
    expect(lstatEntry(file as string).nlink).toBe(2);
  });

  test("stays right while the runtime allocates and collects (its buffers' pointers are taken per call)", () => {
    // A pointer kept from an earlier call went stale once the runtime moved the small typed array
    // statx writes into: the kernel wrote elsewhere and entries came back with the facts of the one
    // before. That showed on a 20,000-file layer and in a standalone script making many small typed
    // arrays (in about half of its runs), not reliably here: this checks the results all the same.
    const root = tempDir("kitbuild-entry-stat-gc-");
    const paths: string[] = [];
    for (let i = 0; i < 300; i++) {
      const p = `${root}/e${i}`;
      if (i % 2 === 0) mkdirSync(p);
      else writeFileSync(p, "y".repeat(i));
      paths.push(p);
    }
    const keep: Uint8Array[] = [];
    for (let round = 0; round < 100; round++) {
      for (const p of paths) {
        const st = lstatEntry(p);
        const node = lstatSync(p);
        if (st.mode !== node.mode || st.size !== node.size) throw new Error(`round ${round}: ${p} came back as another entry`);
        for (let i = 0; i < 20; i++) keep[i] = new Uint8Array(100);
      }
      if (round % 20 === 0) Bun.gc(true);
    }
  });

  test("through an open directory, into one reused object, each entry's facts are its own", () => {
    const paths = tree();
    const dir = paths[0]?.slice(0, paths[0].lastIndexOf("/")) as string;
    const fd = openDirectory(dir);
    try {
      const reuse = scratchEntryStat();
      for (const path of paths) {
        const name = path.slice(dir.length + 1);
        const st = lstatEntryAt(fd, name, path, reuse);
        expect(st).toBe(reuse);
        expect({ ...st }).toEqual(entryStatOf(lstatSync(path, { bigint: true })));
        expect(lstatEntryAt(fd, name, path)).toEqual(entryStatOf(lstatSync(path, { bigint: true })));
      }
    } finally {
      closeDirectory(fd);
    }
  });

  test("a missing path throws lstatSync's error", () => {
    const err = (() => {
      try {
        lstatEntry(`${tempDir("kitbuild-entry-stat-")}/missing`);
      } catch (e) {
        return e;
      }
    })();
    expect((err as { code?: string }).code).toBe("ENOENT");
  });

  test("without statx (lstatSync instead) the facts are the same", () => {
    const paths = tree();
    const withStatx = paths.map(lstatEntry);
    useStatx(false);
    try {
      expect(paths.map(lstatEntry)).toEqual(withStatx);
    } finally {
      useStatx(true);
    }
  });

  test("llistxattr (a reused path buffer) gives the names: none, some, more than its buffer holds, not a symlink's target's", () => {
    const root = tempDir("kitbuild-entry-xattrs-");
    writeFileSync(`${root}/none`, "");
    writeFileSync(`${root}/some`, "");
    lsetxattr(`${root}/some`, "user.a", Buffer.from("1"));
    lsetxattr(`${root}/some`, "user.b", Buffer.alloc(0));
    symlinkSync("some", `${root}/link`);
    expect(llistxattr(`${root}/none`)).toEqual([]);
    expect(llistxattr(`${root}/some`).sort()).toEqual(["user.a", "user.b"]);
    expect(llistxattr(`${root}/link`)).toEqual([]);
    // A shorter path after a longer one: the reused buffer holds only this one.
    expect(llistxattr(`${root}/some`).sort()).toEqual(["user.a", "user.b"]);
    expect(() => llistxattr(`${root}/missing`)).toThrow("ENOENT");
    // A path longer than the buffer (and than the kernel takes): the buffer grows, the kernel refuses.
    expect(() => llistxattr(`${root}/${"x/".repeat(3000)}f`)).toThrow("ENAMETOOLONG");
    // Names of more than 4 KiB in all (the reused buffer is too small, llistxattr's grows): ext4
    // keeps at most a block of xattrs, tmpfs (user xattrs since Linux 6.6) takes more.
    const shm = mkdtempSync("/dev/shm/kitbuild-entry-xattrs-");
    try {
      writeFileSync(`${shm}/many`, "");
      try {
        lsetxattr(`${shm}/many`, "user.probe", Buffer.from("v"));
      } catch (e) {
        if ((e as { code?: string }).code === "EOPNOTSUPP") return; // an older kernel's tmpfs
        throw e;
      }
      for (let i = 0; i < 60; i++) lsetxattr(`${shm}/many`, `user.${"n".repeat(90)}${i}`, Buffer.from("v"));
      expect(llistxattr(`${shm}/many`)).toHaveLength(61);
    } finally {
      rmSync(shm, { recursive: true, force: true });
    }
  });
});
