// A context directory's names are read again only when the directory changed: any entry created,
// removed or renamed in it moves its ctime, which nothing can set back. The checksum of a context
// walked with remembered listings is the one a walk that reads every directory computes.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, renameSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { DirectoryListings } from "../../src/cache/dir-listings.ts";
import { checksumSources } from "../../src/file/checksum.ts";
import type { SourceTree } from "../../src/file/source-tree.ts";
import { lstatEntry } from "../../src/fs/entry-stat.ts";
import { tempDir } from "../harness.ts";

/**
 * A time well after the directory's last change, so it is not taken for one still changing. The
 * tests then change it at once, which a real build's clock would not allow (a listing read within
 * 100 ms of a change is not remembered): `tick` waits out the timestamps' granularity first.
 */
const later = (path: string) => lstatEntry(path).ctimeSec * 1000 + 10_000;
const tick = () => Bun.sleepSync(20);

/** Listings of context `dir` kept in a fresh cache directory; `reads` counts the directories actually read. */
function listingsOf(dir: string, file = `${tempDir("kitbuild-listings-")}/listings`) {
  const listings = new DirectoryListings(file, dir, `${file}.tmp`);
  const reads: string[] = [];
  const names = (host: string, now = later(host)) => listings.names(host, lstatEntry(host), () => (reads.push(host), readSorted(host)), now);
  return { listings, reads, names, file };
}

const readSorted = (host: string) => readdirSync(host).sort();

describe("DirectoryListings", () => {
  test("a directory is read once, and its names taken from the file while it is unchanged", () => {
    const dir = tempDir();
    for (const n of ["b", "a", "c d"]) writeFileSync(`${dir}/${n}`, n);
    const first = listingsOf(dir);
    expect(first.names(dir)).toEqual(["a", "b", "c d"]);
    first.listings.flush();
    const second = listingsOf(dir, first.file);
    expect(second.names(dir)).toEqual(["a", "b", "c d"]);
    expect(second.reads).toEqual([]);
  });

  test("an entry created, removed or renamed makes the directory read again", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/a`, "a");
    writeFileSync(`${dir}/b`, "b");
    const steps: Array<[() => void, string[]]> = [
      [() => writeFileSync(`${dir}/new`, "n"), ["a", "b", "new"]],
      [() => rmSync(`${dir}/a`), ["b", "new"]],
      [() => renameSync(`${dir}/b`, `${dir}/z`), ["new", "z"]],
    ];
    const first = listingsOf(dir);
    first.names(dir);
    first.listings.flush();
    const file = first.file;
    for (const [change, expected] of steps) {
      tick();
      change();
      const next = listingsOf(dir, file);
      expect(next.names(dir)).toEqual(expected);
      expect(next.reads).toEqual([dir]);
      next.listings.flush();
    }
  });

  test("a change hidden by setting the directory's mtime back is still seen: its ctime moved", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/a`, "a");
    utimesSync(dir, new Date(1e12), new Date(1e12));
    const first = listingsOf(dir);
    first.names(dir);
    first.listings.flush();
    tick();
    writeFileSync(`${dir}/hidden`, "h");
    utimesSync(dir, new Date(1e12), new Date(1e12));
    const st = lstatEntry(dir);
    expect([st.mtimeSec, st.mtimeNsec]).toEqual([1e9, 0]);
    const next = listingsOf(dir, first.file);
    expect(next.names(dir)).toEqual(["a", "hidden"]);
    expect(next.reads).toEqual([dir]);
  });

  test("a directory changed in the last moments is not remembered", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/a`, "a");
    const st = lstatEntry(dir);
    const first = listingsOf(dir);
    first.names(dir, st.ctimeSec * 1000 + st.ctimeNsec / 1e6 + 1);
    first.listings.flush();
    const next = listingsOf(dir, first.file);
    next.names(dir);
    expect(next.reads).toEqual([dir]);
  });

  test("listings of directories not read this time are kept while they exist, and dropped once gone", () => {
    const dir = tempDir();
    for (const sub of ["x", "y"]) {
      mkdirSync(`${dir}/${sub}`);
      writeFileSync(`${dir}/${sub}/f`, sub);
    }
    const first = listingsOf(dir);
    first.names(`${dir}/x`);
    first.names(`${dir}/y`);
    first.listings.flush();
    // Only y is read (it changed): x, unread, is kept.
    tick();
    writeFileSync(`${dir}/y/g`, "g");
    const second = listingsOf(dir, first.file);
    expect(second.names(`${dir}/y`)).toEqual(["f", "g"]);
    second.listings.flush();
    const third = listingsOf(dir, first.file);
    expect(third.names(`${dir}/x`)).toEqual(["f"]);
    expect(third.reads).toEqual([]);
    // x is gone when the next learned listing is written: a new x is read, not taken for the old one.
    tick();
    rmSync(`${dir}/x`, { recursive: true });
    writeFileSync(`${dir}/y/h`, "h");
    const fourth = listingsOf(dir, first.file);
    fourth.names(`${dir}/y`);
    fourth.listings.flush();
    mkdirSync(`${dir}/x`);
    const fifth = listingsOf(dir, first.file);
    expect(fifth.names(`${dir}/x`)).toEqual([]);
    expect(fifth.reads).toEqual([`${dir}/x`]);
  });

  test("a damaged file is ignored: every directory is read", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/a`, "a");
    const first = listingsOf(dir);
    first.names(dir);
    first.listings.flush();
    writeFileSync(first.file, Buffer.from([1, 0, 0, 0, 9, 9, 9]));
    const next = listingsOf(dir, first.file);
    expect(next.names(dir)).toEqual(["a"]);
    expect(next.reads).toEqual([dir]);
  });
});

describe("checksums with remembered listings", () => {
  /** The context's checksum, listing directories through `listings` when given. */
  async function contextDigest(dir: string, listings?: DirectoryListings): Promise<string> {
    const tree: SourceTree = {
      root: dir,
      resetOwner: true,
      ...(listings ? { listDirectory: (host, st) => listings.names(host, st, () => readSorted(host), later(host)) } : {}),
    };
    return checksumSources(tree, "/", { followSymlinks: false, allowWildcard: true }, new AbortController().signal);
  }

  test("are the checksums of a walk that reads every directory, before and after a change deep in the tree", async () => {
    const dir = tempDir();
    mkdirSync(`${dir}/src/deep/empty`, { recursive: true });
    writeFileSync(`${dir}/src/deep/f.txt`, "f");
    writeFileSync(`${dir}/src/é ü.txt`, "unicode");
    writeFileSync(`${dir}/top`, "t");
    const file = `${tempDir("kitbuild-listings-")}/listings`;
    const first = new DirectoryListings(file, dir, `${file}.tmp`);
    const plain = await contextDigest(dir);
    expect(await contextDigest(dir, first)).toBe(plain);
    first.flush();
    tick();
    writeFileSync(`${dir}/src/deep/empty/new`, "n");
    const changed = await contextDigest(dir);
    expect(changed).not.toBe(plain);
    expect(await contextDigest(dir, new DirectoryListings(file, dir, `${file}.tmp`))).toBe(changed);
  });
});
