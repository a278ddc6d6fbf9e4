// ADD of local archives, each expectation taken from BuildKit's own result (`DOCKER_BUILDKIT=1
// docker build -o type=local`, docker 20.10 / BuildKit v0.8, on archives GNU tar made of a tree
// owned 1000:1001 with a 0751 directory): tar, gzip, bzip2 and xz archives are recognized by
// content whatever their name and unpacked into the destination directory with their entries'
// owners, modes and mtimes; anything else is copied as it is. Where current BuildKit differs (zstd,
// --chown), the test follows it and says so. Needs root (owners).
import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { chownSync, chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { copyInto, type CopyParams } from "../../src/file/copy.ts";
import { makeTar } from "../../scripts/test-env.ts";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir } from "../harness.ts";

const skip = skipBecause(!IS_ROOT, `ADD archive tests: ${NEEDS_ROOT} (owners)`);
const HAS_BZIP2_XZ = Bun.which("bzip2") !== null && Bun.which("xz") !== null;
const signal = new AbortController().signal;
const TOP_MTIME = Date.UTC(2002, 2, 4, 5, 6, 7) / 1000; // BuildKit printed 1015218367

/** The context: the same tree archived in every format, plus files that only look like archives. */
function archives(): string {
  const tree = tempDir("kitbuild-tree-");
  mkdirSync(`${tree}/inner`);
  writeFileSync(`${tree}/inner/f.txt`, "in\n");
  writeFileSync(`${tree}/top.txt`, "top\n");
  utimesSync(`${tree}/top.txt`, TOP_MTIME, TOP_MTIME);
  chmodSync(`${tree}/inner`, 0o751);
  for (const p of ["", "/inner", "/inner/f.txt", "/top.txt"]) chownSync(`${tree}${p}`, 1000, 1001);
  const ctx = tempDir("kitbuild-ctx-");
  const tar = (args: string[]) => execFileSync("tar", [...args, "-C", tree, "."]);
  writeFileSync(`${ctx}/plain.tar`, tar(["-cf", "-"]));
  writeFileSync(`${ctx}/a.tar.gz`, gzipSync(readFileSync(`${ctx}/plain.tar`)));
  writeFileSync(`${ctx}/d.tar.zst`, zstdCompressSync(readFileSync(`${ctx}/plain.tar`)));
  writeFileSync(`${ctx}/renamed.bin`, readFileSync(`${ctx}/a.tar.gz`));
  if (HAS_BZIP2_XZ) {
    writeFileSync(`${ctx}/b.tar.bz2`, tar(["-cjf", "-"]));
    writeFileSync(`${ctx}/c.tar.xz`, tar(["-cJf", "-"]));
  }
  writeFileSync(`${ctx}/fake.tar.gz`, "notarchive\n");
  writeFileSync(`${ctx}/notar.gz`, gzipSync("notarchive\n"));
  return ctx;
}

/** ADD as the frontend emits it for a local source. */
const add = (src: string, dest: string, extra: Partial<CopyParams> = {}): CopyParams => ({
  src, dest, followSymlinks: true, dirCopyContents: true, createDestPath: true, allowWildcard: true, allowEmptyWildcard: true, attemptUnpack: true, ...extra,
});

function expectUnpacked(dir: string, owner = "1000:1001"): void {
  expect(readdirSync(dir).sort()).toEqual(["inner", "top.txt"]);
  const own = (p: string) => `${lstatSync(`${dir}/${p}`).uid}:${lstatSync(`${dir}/${p}`).gid}`;
  expect([own("inner"), own("inner/f.txt"), own("top.txt")]).toEqual([owner, owner, owner]);
  expect(lstatSync(`${dir}/inner`).mode & 0o7777).toBe(0o751);
  expect(lstatSync(`${dir}/top.txt`).mtimeMs).toBe(TOP_MTIME * 1000);
  expect(readFileSync(`${dir}/inner/f.txt`, "utf8")).toBe("in\n");
}

describe.skipIf(skip)("ADD of local archives", () => {
  test("plain, gzip and (current BuildKit) zstd tars are unpacked into the destination, with or without a slash", async () => {
    const ctx = { root: archives(), resetOwner: true };
    const dest = tempDir("kitbuild-dest-");
    await copyInto(ctx, dest, add("/plain.tar", "/plain/"), signal);
    await copyInto(ctx, dest, add("/a.tar.gz", "/gz"), signal);
    // BuildKit v0.8 copied the .tar.zst file as it is; current BuildKit (moby/go-archive) unpacks zstd.
    await copyInto(ctx, dest, add("/d.tar.zst", "/zst/"), signal);
    for (const d of ["plain", "gz", "zst"]) expectUnpacked(`${dest}/${d}`);
    expect(lstatSync(`${dest}/gz`)).toMatchObject({ uid: 0, gid: 0 });
    expect(lstatSync(`${dest}/gz`).mode & 0o7777).toBe(0o755);
  });

  test.skipIf(!HAS_BZIP2_XZ)("bzip2 and xz tars are unpacked (through the system's bzip2 and xz)", async () => {
    const ctx = { root: archives(), resetOwner: true };
    const dest = tempDir("kitbuild-dest-");
    await copyInto(ctx, dest, add("/b.tar.bz2", "/bz2/"), signal);
    await copyInto(ctx, dest, add("/c.tar.xz", "/xz/"), signal);
    expectUnpacked(`${dest}/bz2`);
    expectUnpacked(`${dest}/xz`);
  });

  test("archives are recognized by content: a renamed one is unpacked, look-alikes are copied as they are", async () => {
    const ctx = { root: archives(), resetOwner: true };
    const dest = tempDir("kitbuild-dest-");
    await copyInto(ctx, dest, add("/renamed.bin", "/renamed/"), signal);
    await copyInto(ctx, dest, add("/fake.tar.gz", "/fake/"), signal);
    await copyInto(ctx, dest, add("/notar.gz", "/notar/"), signal);
    expectUnpacked(`${dest}/renamed`);
    expect(readFileSync(`${dest}/fake/fake.tar.gz`, "utf8")).toBe("notarchive\n");
    expect(readdirSync(`${dest}/notar`)).toEqual(["notar.gz"]);
    // COPY never unpacks.
    await copyInto(ctx, dest, add("/a.tar.gz", "/copied/", { attemptUnpack: false }), signal);
    expect(readdirSync(`${dest}/copied`)).toEqual(["a.tar.gz"]);
  });

  test("--chown owns the created directory and (current BuildKit) every unpacked entry", async () => {
    const ctx = { root: archives(), resetOwner: true };
    const dest = tempDir("kitbuild-dest-");
    // BuildKit v0.8 chowned only /gz-chown and kept the entries' 1000:1001; current BuildKit passes
    // the owner to the unpacking (ChownOpts), as here.
    await copyInto(ctx, dest, add("/a.tar.gz", "/gz-chown/", { owner: { uid: 1000, gid: 1000 } }), signal);
    expect(lstatSync(`${dest}/gz-chown`)).toMatchObject({ uid: 1000, gid: 1000 });
    expectUnpacked(`${dest}/gz-chown`, "1000:1000");
  });

  test("entries stay inside the destination directory: absolute names are re-rooted, symlinks resolve in it, '..' is refused", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    const text = (s: string) => new TextEncoder().encode(s);
    writeFileSync(`${ctx}/abs.tar`, await makeTar([{ name: "/etc/abs", type: "file", mode: 0o644, body: text("abs") }]));
    writeFileSync(`${ctx}/link.tar`, await makeTar([
      { name: "up", type: "symlink", linkname: "/" },
      { name: "up/etc/passwd", type: "file", mode: 0o644, body: text("pwned") },
    ]));
    writeFileSync(`${ctx}/dotdot.tar`, await makeTar([{ name: "../escape", type: "file", mode: 0o644, body: text("x") }]));
    const dest = tempDir("kitbuild-dest-");
    mkdirSync(`${dest}/etc`);
    writeFileSync(`${dest}/etc/passwd`, "root:x:0:0::/root:/bin/sh\n");
    const c = { root: ctx, resetOwner: true };
    await copyInto(c, dest, add("/abs.tar", "/app/"), signal);
    await copyInto(c, dest, add("/link.tar", "/app/"), signal);
    expect(readFileSync(`${dest}/app/etc/abs`, "utf8")).toBe("abs");
    expect(readFileSync(`${dest}/app/etc/passwd`, "utf8")).toBe("pwned");
    expect(readFileSync(`${dest}/etc/passwd`, "utf8")).toBe("root:x:0:0::/root:/bin/sh\n");
    await expect(copyInto(c, dest, add("/dotdot.tar", "/app/"), signal)).rejects.toMatchObject({ code: "E_ARCHIVE_UNSAFE_PATH" });
    expect(readdirSync(dest).sort()).toEqual(["app", "etc"]);
  });
});
