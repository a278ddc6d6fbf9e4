// Bytes a directory tree takes on disk: allocated blocks, hard-linked files counted once, links not
// followed. Synchronous lstat calls (several times faster than promise ones on trees of small files),
// the async walk yielding to the event loop every few thousand entries.
import { lstatSync, readdirSync } from "node:fs";
import { errnoCode } from "./errors.ts";

const YIELD_EVERY = 4096;

/** What a tally needs of an entry's stat (node's Stats and fs/entry-stat.ts's EntryStat both have it). */
type Counted = { blocks: number; nlink: number; dev: number; ino: number | bigint };

/** Allocated bytes of entries added one at a time: a hard-linked file's only once. */
export class UsageTally {
  bytes = 0;
  private readonly seenLinks = new Set<string>();

  add(st: Counted, isDirectory: boolean): void {
    if (st.nlink > 1 && !isDirectory) {
      const key = `${st.dev}:${st.ino}`;
      if (this.seenLinks.has(key)) return;
      this.seenLinks.add(key);
    }
    this.bytes += st.blocks * 512;
  }
}

/** A directory whose contents were already counted (`bytes`): the walk counts the directory itself, not what it holds. */
export type CountedDir = { path: string; bytes: number };

export async function diskUsage(path: string): Promise<number> {
  const tally = new UsageTally();
  for (const _ of walk(path, tally, undefined, { entries: 0 })) await new Promise((r) => setImmediate(r));
  return tally.bytes;
}

/** The same without yielding, for a tree known to be small (`counted`: a directory in it already counted). */
export function diskUsageSync(path: string, counted?: CountedDir): number {
  const tally = new UsageTally();
  for (const _ of walk(path, tally, counted, { entries: 0 }));
  return tally.bytes;
}

/** Yields every YIELD_EVERY entries. */
function* walk(dir: string, tally: UsageTally, counted: CountedDir | undefined, seen: { entries: number }): Generator<void> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (errnoCode(e) === "ENOENT" || errnoCode(e) === "ENOTDIR") return;
    throw e;
  }
  for (const entry of entries) {
    const p = `${dir}/${entry.name}`;
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    tally.add(st, st.isDirectory());
    if (++seen.entries % YIELD_EVERY === 0) yield;
    if (!st.isDirectory()) continue;
    if (p === counted?.path) tally.bytes += counted.bytes;
    else yield* walk(p, tally, counted, seen);
  }
}
