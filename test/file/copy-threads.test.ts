// COPY of many files creates the small ones on worker threads (fs/new-file-writers.ts) once a few
// hundred have been copied: the tree it leaves must be the one a copy on the main thread leaves,
// directory times included, and a failure on a worker must reach the caller. Needs root (owners,
// a tmpfs).
import { describe, expect, test } from "bun:test";
import { chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { Copier } from "../../src/file/copier.ts";
import { copyInto } from "../../src/file/copy.ts";
import { lgetxattr, llistxattr, lsetxattr, MNT_DETACH, mount, umount } from "../../src/fs/libc.ts";
import { NewFileWriters } from "../../src/fs/new-file-writers.ts";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir } from "../harness.ts";

const skip = skipBecause(!IS_ROOT, `threaded COPY tests: ${NEEDS_ROOT}`);
const signal = new AbortController().signal;

/** 1,200 files in 12 directories (two levels), with owners, modes, times and an xattr here and there. */
function source(): string {
  const dir = tempDir("kitbuild-src-");
  for (let d = 0; d < 12; d++) {
    const sub = `${dir}/d${d}/${d % 3 === 0 ? "deep/" : ""}`;
    mkdirSync(sub, { recursive: true });
    for (let f = 0; f < 100; f++) {
      const path = `${sub}f${f}`;
      writeFileSync(path, `${d}/${f}\n`.repeat(f));
      if (f % 7 === 0) chownSync(path, 1000 + f, 2000 + d);
      if (f % 11 === 0) lsetxattr(path, "user.kitbuild", Buffer.from(`x${f}`));
      utimesSync(path, 1_000_000 + f, 2_000_000 + d * 100 + f);
    }
    utimesSync(sub, 5_000_000, 6_000_000 + d);
  }
  return dir;
}

/** Every entry's type, mode, owner, mtime, size, content and xattrs, by relative path. */
function tree(root: string, rel = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(`${root}/${rel}`).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const path = `${root}/${r}`;
    const st = lstatSync(path, { bigint: true });
    const xattrs = llistxattr(path).sort().map((n) => `${n}=${lgetxattr(path, n)?.toString()}`);
    const body = st.isFile() ? readFileSync(path, "utf8") : "";
    out[r] = [st.mode.toString(8), st.uid, st.gid, st.mtimeNs, st.size, body, ...xattrs].join(" ");
    if (st.isDirectory()) Object.assign(out, tree(root, r));
  }
  return out;
}

async function copied(src: string, writers: NewFileWriters | undefined): Promise<string> {
  const dest = tempDir("kitbuild-dest-");
  const copier = new Copier({ destRoot: dest, resetOwner: false, alwaysReplace: false, writers, signal });
  await copier.copy(src, "", `${dest}/out`, false);
  await copier.finish();
  return `${dest}/out`;
}

describe.skipIf(skip)("COPY on worker threads", () => {
  test("leaves the tree a copy on the main thread leaves: owners, modes, ns times, xattrs, directory times", async () => {
    const src = source();
    await using writers = new NewFileWriters(2);
    const threaded = tree(await copied(src, writers));
    const single = tree(await copied(src, undefined));
    expect(Object.keys(threaded).length).toBe(1200 + 12 + 4);
    expect(threaded).toEqual(single);
    // And both are the source's own metadata (the top directory aside, which the copy made).
    expect(threaded).toEqual(tree(src));
  });

  test("a worker's failure (ENOSPC) reaches the caller, and nothing writes after copyInto returns", async () => {
    const src = source();
    const small = tempDir("kitbuild-tmpfs-");
    mount("tmpfs", small, "tmpfs", 0, "size=256k");
    try {
      const failure = await copyInto({ root: src, resetOwner: true }, small, {
        src: "/", dest: "/out/", followSymlinks: false, dirCopyContents: true, createDestPath: true, allowWildcard: false, allowEmptyWildcard: false,
      }, signal).catch((e: unknown) => e);
      expect((failure as { code?: string }).code).toBe("ENOSPC");
      const count = () => readdirSync(small, { recursive: true }).length;
      const after = count();
      await Bun.sleep(200);
      expect(count()).toBe(after);
    } finally {
      umount(small, MNT_DETACH);
    }
  });
});
