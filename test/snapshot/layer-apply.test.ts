// Applying layers on both snapshotters: gzip, zstd and uncompressed blobs; every entry type with its
// metadata; binary xattrs (security.capability) written by GNU tar; whiteouts and opaque markers
// wherever they come in the layer; entries replacing entries of another type; and a decompression
// bomb stopped on a small filesystem before it is full. Needs root (mounts, devices, owners).
import { describe, expect, test } from "bun:test";
import { execFileSync, spawn } from "node:child_process";
import { createWriteStream, lstatSync, readdirSync, readFileSync, readlinkSync, statfsSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createZstdCompress } from "node:zlib";
import { applyLayerFile } from "../../src/snapshot/layer-apply.ts";
import { lgetxattr, lsetxattr, MNT_DETACH, mount, umount } from "../../src/fs/libc.ts";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir } from "../harness.ts";
import { applyEntries, applyTo, freshSnapshotter, IMPLS, layerFile, signal, text } from "./impls.ts";

const skip = skipBecause(!IS_ROOT, `layer apply suite: ${NEEDS_ROOT}`);
// A valid VFS_CAP_REVISION_2 value granting cap_net_raw (bit 13), as `setcap cap_net_raw+p` writes.
const CAP_NET_RAW = Buffer.from([0x00, 0x00, 0x00, 0x02, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const sha256 = (b: Uint8Array): `sha256:${string}` => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;

for (const impl of IMPLS) {
  describe.skipIf(skip)(`applying layers on ${impl.name}`, () => {
    test("gzip, zstd and uncompressed blobs give the same tree and the DiffID of the uncompressed tar", async () => {
      const { root, s } = freshSnapshotter(impl);
      const entries = [{ name: "a/", type: "directory" as const, mode: 0o755 }, { name: "a/f", type: "file" as const, mode: 0o640, body: text("data") }];
      const plain = await layerFile(root, entries, "uncompressed");
      for (const compression of ["gzip", "zstd", "uncompressed"] as const) {
        const blob = await layerFile(root, entries, compression);
        await using active = await s.prepare(null, "layer");
        await using target = await active.mount();
        const result = await applyLayerFile(blob, compression, target.path, { preserveOwner: true, signal });
        expect(result.diffId).toBe(sha256(readFileSync(plain)));
        expect(readFileSync(`${target.path}/a/f`, "utf8")).toBe("data");
        expect(lstatSync(`${target.path}/a/f`).mode & 0o7777).toBe(0o640);
      }
    });

    test("every entry type keeps its metadata; hardlinks may point into lower layers", async () => {
      const { root, s } = freshSnapshotter(impl);
      const mtime = new Date(1_000_000_000_000);
      const base = await applyEntries(s, null, root, [{ name: "lower", type: "file", mode: 0o600, uid: 7, gid: 8, body: text("low") }]);
      const top = await applyEntries(s, base, root, [
        { name: "dir/", type: "directory", mode: 0o1777, uid: 5, gid: 6, mtime },
        { name: "dir/file", type: "file", mode: 0o4755, uid: 1000, gid: 1001, mtime, body: text("x") },
        { name: "dir/link", type: "symlink", linkname: "../nowhere", uid: 3, gid: 4 },
        { name: "dir/hard", type: "link", linkname: "lower" },
        { name: "dir/null", type: "character-device", mode: 0o666, devmajor: 1, devminor: 3 },
        { name: "dir/disk", type: "block-device", mode: 0o660, devmajor: 7, devminor: 0 },
        { name: "dir/fifo", type: "fifo", mode: 0o600 },
      ]);
      await using view = await s.mountReadonly(top);
      const d = `${view.path}/dir`;
      expect(lstatSync(d)).toMatchObject({ uid: 5, gid: 6, mtimeMs: 1_000_000_000_000 });
      expect(lstatSync(d).mode & 0o7777).toBe(0o1777);
      expect(lstatSync(`${d}/file`)).toMatchObject({ uid: 1000, gid: 1001, mtimeMs: 1_000_000_000_000 });
      expect(lstatSync(`${d}/file`).mode & 0o7777).toBe(0o4755);
      expect(readlinkSync(`${d}/link`)).toBe("../nowhere");
      expect(lstatSync(`${d}/link`)).toMatchObject({ uid: 3, gid: 4 });
      expect(readFileSync(`${d}/hard`, "utf8")).toBe("low");
      expect(lstatSync(`${d}/hard`).ino).toBe(lstatSync(`${view.path}/lower`).ino);
      expect(lstatSync(`${d}/null`).isCharacterDevice()).toBe(true);
      expect(lstatSync(`${d}/null`).rdev).toBe(lstatSync("/dev/null").rdev);
      expect(lstatSync(`${d}/disk`).isBlockDevice()).toBe(true);
      expect(lstatSync(`${d}/fifo`).isFIFO()).toBe(true);
    });

    test("binary xattrs from a GNU tar layer arrive byte for byte", async () => {
      const { root, s } = freshSnapshotter(impl);
      const src = tempDir("kitbuild-xattr-src-");
      writeFileSync(`${src}/ping`, "#!/bin/sh\n");
      lsetxattr(`${src}/ping`, "security.capability", CAP_NET_RAW);
      lsetxattr(`${src}/ping`, "user.note", Buffer.from([0xff, 0x00, 0x80]));
      const blob = `${root}/gnu.tar`;
      execFileSync("tar", ["--format=posix", "--xattrs", "--xattrs-include=*", "-cf", blob, "-C", src, "ping"]);
      const top = await applyTo(s, null, blob, "uncompressed");
      await using view = await s.mountReadonly(top);
      expect(lgetxattr(`${view.path}/ping`, "security.capability")).toEqual(CAP_NET_RAW);
      expect(lgetxattr(`${view.path}/ping`, "user.note")).toEqual(Buffer.from([0xff, 0x00, 0x80]));
    });

    test("whiteouts and opaque markers delete only what lies below, wherever they come in the layer", async () => {
      const { root, s } = freshSnapshotter(impl);
      const base = await applyEntries(s, null, root, [
        { name: "keep/", type: "directory", mode: 0o755 },
        { name: "keep/old", type: "file", mode: 0o644, body: text("old") },
        { name: "gone/", type: "directory", mode: 0o755 },
        { name: "gone/deep", type: "file", mode: 0o644, body: text("deep") },
        { name: "file", type: "file", mode: 0o644, body: text("f") },
      ]);
      // The opaque marker comes after this layer's own entry of the directory: that entry stays.
      const top = await applyEntries(s, base, root, [
        { name: "keep/", type: "directory", mode: 0o755 },
        { name: "keep/new", type: "file", mode: 0o644, body: text("new") },
        { name: "keep/.wh..wh..opq", type: "file", mode: 0o644 },
        { name: ".wh.gone", type: "file", mode: 0o644 },
        { name: ".wh.file", type: "file", mode: 0o644 },
        { name: ".wh.never-existed", type: "file", mode: 0o644 },
      ]);
      await using view = await s.mountReadonly(top);
      expect(readdirSync(`${view.path}/keep`)).toEqual(["new"]);
      expect(readdirSync(view.path).sort()).toEqual(["keep"]);
      await using lower = await s.mountReadonly(base);
      expect(readdirSync(lower.path).sort()).toEqual(["file", "gone", "keep"]);
    });

    test("an entry replaces one of another type", async () => {
      const { root, s } = freshSnapshotter(impl);
      const base = await applyEntries(s, null, root, [
        { name: "was-dir/", type: "directory", mode: 0o755 },
        { name: "was-dir/child", type: "file", mode: 0o644, body: text("c") },
        { name: "was-file", type: "file", mode: 0o644, body: text("f") },
        { name: "was-link", type: "symlink", linkname: "was-dir" },
        { name: "dir-to-link/", type: "directory", mode: 0o755 },
        { name: "dir-to-link/x", type: "file", mode: 0o644, body: text("x") },
      ]);
      const top = await applyEntries(s, base, root, [
        { name: "was-dir", type: "file", mode: 0o600, body: text("now a file") },
        { name: "was-file/", type: "directory", mode: 0o700 },
        { name: "was-file/inside", type: "file", mode: 0o644, body: text("i") },
        { name: "was-link/", type: "directory", mode: 0o711 },
        { name: "dir-to-link", type: "symlink", linkname: "was-file" },
      ]);
      await using view = await s.mountReadonly(top);
      expect(readFileSync(`${view.path}/was-dir`, "utf8")).toBe("now a file");
      expect(readdirSync(`${view.path}/was-file`)).toEqual(["inside"]);
      expect(lstatSync(`${view.path}/was-link`).isDirectory()).toBe(true);
      expect(readdirSync(`${view.path}/was-link`)).toEqual([]);
      expect(readlinkSync(`${view.path}/dir-to-link`)).toBe("was-file");
    });

    test("a decompression bomb stops with a clear error before the filesystem is full", async () => {
      const small = tempDir("kitbuild-tmpfs-");
      mount("tmpfs", small, "tmpfs", 0, "size=64m");
      try {
        const { s } = freshSnapshotter(impl, small);
        const bomb = await zeroBomb();
        await expect(applyTo(s, null, bomb, "zstd")).rejects.toMatchObject({ code: "E_ARCHIVE_TOO_LARGE", message: expect.stringContaining("left on the filesystem") });
        const st = statfsSync(small);
        expect(st.bavail * st.bsize).toBeGreaterThan(32 << 20); // the partial snapshot was removed
        expect(readdirSync(`${small}/snapshots`)).toEqual([]);
      } finally {
        umount(small, MNT_DETACH);
      }
    }, 60_000);
  });
}

let bomb: Promise<string> | undefined;

/** A zstd tar holding one file of 512 MiB of zeros (a few KiB on disk), made once per run. */
function zeroBomb(): Promise<string> {
  bomb ??= writeZeroBomb(`${tempDir()}/bomb.tar.zst`, 512 << 20);
  return bomb;
}

async function writeZeroBomb(path: string, size: number): Promise<string> {
  const dir = tempDir("kitbuild-bomb-src-");
  writeFileSync(`${dir}/zeros`, "");
  truncateSync(`${dir}/zeros`, size); // sparse here; GNU tar without --sparse stores every zero
  const tar = spawn("tar", ["-cf", "-", "-C", dir, "zeros"], { stdio: ["ignore", "pipe", "inherit"] });
  await pipeline(tar.stdout, createZstdCompress(), createWriteStream(path));
  expect(statSync(path).size).toBeLessThan(size / 1000);
  return path;
}
