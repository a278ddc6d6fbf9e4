// The changes of a native snapshot: its tree compared with its parent's. An entry is changed when
// its type, mode, owner, size, mtime, link target, device or xattrs differ; when the mtimes carry
// no sub-second part (a filesystem or a copy that truncated them), equal-looking files are also
// compared byte for byte. Changes are listed with their parent directories, as containerd's diffs
// are, so a layer never relies on a directory it does not carry.
import { closeSync, openSync, readlinkSync, readSync, type BigIntStats } from "node:fs";
import { lstatOrUndefined } from "../fs/copy-tree.ts";
import { lgetxattr, llistxattr } from "../fs/libc.ts";
import { entryStatOf } from "../fs/entry-stat.ts";
import { sortedNames } from "../archive/tar.ts";
import { type LayerChange, whiteoutOf } from "./layer-diff.ts";

type Pending = { change: LayerChange; emitted: boolean };

/** The layer records turning `parent` (undefined: nothing) into `tree`, in tar order. */
export function* nativeChanges(tree: string, parent: string | undefined): Iterable<LayerChange> {
  yield* compareDir(tree, parent, "", []);
}

function* compareDir(tree: string, parent: string | undefined, rel: string, ancestors: Pending[]): Iterable<LayerChange> {
  const newDir = rel === "" ? tree : `${tree}/${rel}`;
  const oldDir = parent === undefined ? undefined : rel === "" ? parent : `${parent}/${rel}`;
  const names = new Set(sortedNames(newDir));
  if (oldDir !== undefined) for (const n of sortedNames(oldDir)) names.add(n);
  for (const name of [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
    const childRel = rel === "" ? name : `${rel}/${name}`;
    const host = `${newDir}/${name}`;
    const now = lstatOrUndefined(host);
    const before = oldDir === undefined ? undefined : lstatOrUndefined(`${oldDir}/${name}`);
    if (!now) {
      yield* flush(ancestors);
      yield whiteoutOf(childRel);
      continue;
    }
    const entry: LayerChange = { kind: "entry", name: childRel, host, st: entryStatOf(now), dirFd: -1 };
    if (!before || typeOf(now) !== typeOf(before)) {
      yield* flush(ancestors);
      yield entry;
      if (now.isDirectory()) yield* compareDir(tree, undefined, childRel, []);
      continue;
    }
    const changed = !sameEntry(host, now, `${oldDir}/${name}`, before);
    if (!now.isDirectory()) {
      if (changed) {
        yield* flush(ancestors);
        yield entry;
      }
      continue;
    }
    const self: Pending = { change: entry, emitted: false };
    if (changed) yield* flush([...ancestors, self]);
    yield* compareDir(tree, parent, childRel, [...ancestors, self]);
  }
}

/** Emits the ancestors not written yet, outermost first. */
function* flush(ancestors: Pending[]): Iterable<LayerChange> {
  for (const a of ancestors) {
    if (a.emitted) continue;
    a.emitted = true;
    yield a.change;
  }
}

function typeOf(st: BigIntStats): bigint {
  return st.mode & 0o170000n;
}

function sameEntry(newHost: string, now: BigIntStats, oldHost: string, before: BigIntStats): boolean {
  if (now.mode !== before.mode || now.uid !== before.uid || now.gid !== before.gid || now.mtimeNs !== before.mtimeNs) return false;
  if (now.isCharacterDevice() || now.isBlockDevice()) {
    if (now.rdev !== before.rdev) return false;
  }
  if (now.isSymbolicLink() && readlinkSync(newHost) !== readlinkSync(oldHost)) return false;
  if (!sameXattrs(newHost, oldHost)) return false;
  if (!now.isFile()) return true;
  if (now.size !== before.size) return false;
  return now.mtimeNs % 1_000_000_000n !== 0n || sameContent(newHost, oldHost);
}

function sameXattrs(a: string, b: string): boolean {
  const names = llistxattr(a).sort();
  const other = llistxattr(b).sort();
  if (names.join("\0") !== other.join("\0")) return false;
  return names.every((n) => lgetxattr(a, n)?.equals(lgetxattr(b, n) ?? Buffer.alloc(0)) ?? false);
}

const BUF_A = Buffer.allocUnsafe(1 << 16);
const BUF_B = Buffer.allocUnsafe(1 << 16);

function sameContent(a: string, b: string): boolean {
  const fa = openSync(a, "r");
  const fb = openSync(b, "r");
  try {
    for (;;) {
      const na = readSync(fa, BUF_A, 0, BUF_A.length, null);
      const nb = readSync(fb, BUF_B, 0, BUF_B.length, null);
      if (na !== nb || !BUF_A.subarray(0, na).equals(BUF_B.subarray(0, nb))) return false;
      if (na === 0) return true;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}
