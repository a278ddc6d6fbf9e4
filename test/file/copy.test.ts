// COPY semantics, performed in-root: directory contents, trailing slashes, wildcards, owners reset
// for the context, .dockerignore exclusions, and destinations that try to leave the root.
import { describe, expect, test } from "bun:test";
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { copyInto, type CopyParams } from "../../src/file/copy.ts";
import type { SourceTree } from "../../src/file/source-tree.ts";
import { lgetxattr, lsetxattr } from "../../src/fs/libc.ts";
import { PatternMatcher } from "../../src/util/patterns.ts";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir } from "../harness.ts";

const skip = skipBecause(!IS_ROOT, `COPY tests: ${NEEDS_ROOT} (they set owners)`);
const signal = new AbortController().signal;

function context(): string {
  const dir = tempDir("kitbuild-src-");
  mkdirSync(`${dir}/dir/sub`, { recursive: true });
  writeFileSync(`${dir}/dir/a.txt`, "a");
  writeFileSync(`${dir}/dir/sub/b.txt`, "b");
  writeFileSync(`${dir}/one.txt`, "1");
  writeFileSync(`${dir}/two.txt`, "2");
  writeFileSync(`${dir}/three.md`, "3");
  chownSync(`${dir}/one.txt`, 1234, 1234);
  return dir;
}

const params = (src: string, dest: string, extra: Partial<CopyParams> = {}): CopyParams => ({
  src, dest, followSymlinks: true, dirCopyContents: true, createDestPath: true, allowWildcard: true, allowEmptyWildcard: true, ...extra,
});

/** Whether this filesystem takes user xattrs (tmpfs before 6.6 does not). */
function withUserXattr(path: string): boolean {
  try {
    lsetxattr(path, "user.kitbuild", Buffer.from("v"));
    return true;
  } catch {
    return false;
  }
}

const tree = (root: string, excludes: string[] = []): SourceTree => {
  const m = new PatternMatcher(excludes);
  return { root, resetOwner: true, isExcluded: (r) => !m.empty && m.matches(r), mustEnter: (r) => m.mayReinclude(r) };
};

describe.skipIf(skip)("copyInto", () => {
  test("a directory's contents go into the destination; a file keeps its name under a trailing slash", async () => {
    const src = context();
    const dest = tempDir();
    await copyInto(tree(src), dest, params("/dir", "/app/"), signal);
    expect(readdirSync(`${dest}/app`).sort()).toEqual(["a.txt", "sub"]);
    expect(readFileSync(`${dest}/app/sub/b.txt`, "utf8")).toBe("b");
    await copyInto(tree(src), dest, params("/one.txt", "/app/"), signal);
    expect(readFileSync(`${dest}/app/one.txt`, "utf8")).toBe("1");
    await copyInto(tree(src), dest, params("/one.txt", "/renamed"), signal);
    expect(lstatSync(`${dest}/renamed`).isFile()).toBe(true);
    // An existing directory as destination receives the file under its own name.
    await copyInto(tree(src), dest, params("/two.txt", "/app"), signal);
    expect(readFileSync(`${dest}/app/two.txt`, "utf8")).toBe("2");
  });

  test("wildcards select files; context files belong to root", async () => {
    const src = context();
    const dest = tempDir();
    await copyInto(tree(src), dest, params("/*.txt", "/out/"), signal);
    expect(readdirSync(`${dest}/out`).sort()).toEqual(["one.txt", "two.txt"]);
    expect(lstatSync(`${dest}/out/one.txt`).uid).toBe(0);
    await copyInto(tree(src), dest, params("/*.nothing", "/none/"), signal);
    // BuildKit returns before creating the destination when an allowed-empty wildcard matches nothing.
    expect(existsSync(`${dest}/none`)).toBe(false);
    await expect(copyInto(tree(src), dest, params("/missing.txt", "/x"), signal)).rejects.toThrow('"/missing.txt" not found');
  });

  test(".dockerignore exclusions apply inside copied directories", async () => {
    const src = context();
    const dest = tempDir();
    await copyInto(tree(src, ["dir/sub", "*.md"]), dest, params("/", "/app/"), signal);
    expect(readdirSync(`${dest}/app`).sort()).toEqual(["dir", "one.txt", "two.txt"]);
    expect(readdirSync(`${dest}/app/dir`)).toEqual(["a.txt"]);
    await expect(copyInto(tree(src, ["one.txt"]), dest, params("/one.txt", "/x"), signal)).rejects.toThrow("not found");
  });

  test("a destination symlink pointing outside the root cannot lead the copy out", async () => {
    const src = context();
    const dest = tempDir();
    const outside = tempDir("kitbuild-outside-");
    symlinkSync(outside, `${dest}/etc`);
    symlinkSync("../../../../../..", `${dest}/up`);
    await copyInto(tree(src), dest, params("/one.txt", "/etc/one.txt"), signal);
    await copyInto(tree(src), dest, params("/two.txt", "/up/tmp/two.txt"), signal);
    expect(readdirSync(outside)).toEqual([]);
    expect(readFileSync(`${dest}${outside}/one.txt`, "utf8")).toBe("1");
    expect(readFileSync(`${dest}/tmp/two.txt`, "utf8")).toBe("2");
  });

  test("what is already at a file's destination is replaced, a symlink never written through; xattrs and a --chown owner are set", async () => {
    const src = context();
    const xattrs = withUserXattr(`${src}/dir/a.txt`);
    const dest = tempDir();
    const outside = tempDir("kitbuild-outside-");
    mkdirSync(`${dest}/out`);
    writeFileSync(`${dest}/out/a.txt`, "old and longer");
    mkdirSync(`${dest}/out/sub`);
    symlinkSync(`${outside}/b.txt`, `${dest}/out/sub/b.txt`);
    await copyInto(tree(src), dest, params("/dir", "/out", { owner: { uid: 7, gid: 8 } }), signal);
    expect(readFileSync(`${dest}/out/a.txt`, "utf8")).toBe("a");
    expect(lstatSync(`${dest}/out/sub/b.txt`).isFile()).toBe(true);
    expect(readdirSync(outside)).toEqual([]);
    for (const p of ["a.txt", "sub/b.txt"]) expect([lstatSync(`${dest}/out/${p}`).uid, lstatSync(`${dest}/out/${p}`).gid]).toEqual([7, 8]);
    if (xattrs) expect(lgetxattr(`${dest}/out/a.txt`, "user.kitbuild")).toEqual(Buffer.from("v"));
  });

  test("a source symlink is followed inside the context: a target outside it is not found, naming the link", async () => {
    const src = context();
    const dest = tempDir();
    const outside = tempDir("kitbuild-outside-");
    writeFileSync(`${outside}/secret`, "secret");
    symlinkSync(`${outside}/secret`, `${src}/abs`);
    symlinkSync(`../${outside.split("/").pop()}/secret`, `${src}/rel`);
    symlinkSync("/one.txt", `${src}/inside`);
    // BuildKit resolves a link's target from the context's root: "/one.txt" is the context's file.
    await copyInto(tree(src), dest, params("/inside", "/x"), signal);
    expect(readFileSync(`${dest}/x`, "utf8")).toBe("1");
    for (const link of ["/abs", "/rel"]) {
      const err = await copyInto(tree(src), dest, params(link, "/y"), signal).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "E_COPY_NOT_FOUND" });
      expect(String((err as Error).message)).toContain(`"${link}" not found`);
    }
    // Not followed (COPY --from an image source does not follow): the link itself is copied.
    await copyInto(tree(src), dest, params("/abs", "/z", { followSymlinks: false }), signal);
    expect(lstatSync(`${dest}/z`).isSymbolicLink()).toBe(true);
  });
});
