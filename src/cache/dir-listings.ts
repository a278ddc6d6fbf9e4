// The names in each directory of a context, remembered with the directory's device, inode, mtime
// and ctime, so that a rebuild reads a directory again only when it changed. Creating, removing or
// renaming an entry moves both times of the directory that holds it (POSIX requires mtime; Linux
// moves ctime with it, and nothing can set ctime back), so while they are the same the names are.
// Reading a directory costs more than it seems: ext4 sorts a large directory's entries by hash on
// every read, and a no-op rebuild of 20,000 files in 200 directories spent 11-13 ms of its 120 in
// readdir. Entries themselves are not vouched for here: every entry is still stat'ed, and a file
// by the hash memo beside it (file-hashes.ts). As there, a directory changed within 100 ms of its
// reading (2 s without sub-second times) is not remembered: a change in the same clock tick could
// keep its times.
//
// Kept beside the hash memo, in a file of its own of the same format (memo-file.ts): the
// directories' numbers, their paths (relative to the context, "" for its top) joined by NUL, and
// each directory's names joined by "/", joined by NUL.
import { existsSync } from "node:fs";
import { isRacy, type MemoStat, numbersOf, sameEntry } from "./file-hashes.ts";
import { decodeMemo, encodeMemo, readMemo, replaceMemo } from "./memo-file.ts";

const FIELDS = 7;
const VERSION = 1;

type Stored = { index: Map<string, number>; numbers: Float64Array; names: string[] };

export class DirectoryListings {
  private readonly stored?: Stored;
  private readonly learned = new Map<string, { numbers: number[]; names: string }>();
  private readonly seen = new Set<string>();

  /** `file`: where the listings of context directory `dir` are kept; `tmp`: where a new file is written first. */
  constructor(private readonly file: string, private readonly dir: string, private readonly tmp: string) {
    this.stored = load(file);
  }

  /**
   * The names in directory `host` (under the context directory, stat'ed as `st`), sorted as a walk
   * takes them: remembered while the directory is unchanged, else read with `read` and remembered.
   */
  names(host: string, st: MemoStat, read: () => string[], nowMs: number): string[] {
    const rel = host === this.dir ? "" : host.startsWith(this.dir) && host.charCodeAt(this.dir.length) === 47 ? host.slice(this.dir.length + 1) : undefined;
    if (rel === undefined) return read();
    this.seen.add(rel);
    const learned = this.learned.get(rel);
    const i = learned ? undefined : this.stored?.index.get(rel);
    const text = learned ? (sameEntry(learned.numbers, 0, st) ? learned.names : undefined)
      : i !== undefined && this.stored && sameEntry(this.stored.numbers, i * FIELDS, st) ? this.stored.names[i] : undefined;
    if (text !== undefined) return text === "" ? [] : text.split("/");
    const names = read();
    if (!isRacy(st, nowMs)) this.learned.set(rel, { numbers: numbersOf(st), names: names.join("/") });
    return names;
  }

  /** Writes the listings when a directory was read: the ones still there, and the new ones. */
  flush(): void {
    if (this.learned.size === 0) return;
    const paths: string[] = [];
    const numbers: number[] = [];
    const names: string[] = [];
    const stored = this.stored;
    if (stored) {
      for (const [rel, i] of stored.index) {
        if (this.learned.has(rel) || (!this.seen.has(rel) && !existsSync(rel === "" ? this.dir : `${this.dir}/${rel}`))) continue;
        paths.push(rel);
        for (let f = 0; f < FIELDS; f++) numbers.push(stored.numbers[i * FIELDS + f] as number);
        names.push(stored.names[i] as string);
      }
    }
    for (const [rel, e] of this.learned) {
      paths.push(rel);
      numbers.push(...e.numbers);
      names.push(e.names);
    }
    replaceMemo(this.tmp, this.file, encodeMemo(VERSION, paths.length, Float64Array.from(numbers), paths.join("\0"), names.join("\0")));
    this.learned.clear();
  }
}

/** The stored listings; undefined when there are none, or they are of another version or damaged. */
function load(file: string): Stored | undefined {
  const blob = readMemo(file);
  const parts = blob && decodeMemo(blob, VERSION, FIELDS);
  if (!parts) return undefined;
  const paths = parts.first.split("\0");
  const names = parts.second.split("\0");
  if (paths.length !== parts.count || names.length !== parts.count) return undefined;
  return { index: new Map(paths.map((p, i) => [p, i])), numbers: parts.numbers, names };
}
