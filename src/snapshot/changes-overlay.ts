// The changes of an overlay snapshot: its upper directory is exactly what it added or changed, in
// overlayfs' notation. Whiteouts (0/0 character devices, or files marked with an overlay.whiteout
// xattr) become OCI whiteouts; directories marked opaque (overlay.opaque "y", in the trusted. or,
// for rootless mounts with userxattr, the user. namespace) get an OCI opaque marker.
import { closeDirectory, type EntryStat, isCharacterDevice, isDirectory, isFile, lstatEntry, lstatEntryAt, openDirectory } from "../fs/entry-stat.ts";
import { undecodableNameError } from "../fs/file-names.ts";
import { lgetxattr } from "../fs/libc.ts";
import { sortedNames } from "../archive/tar.ts";
import type { UsageTally } from "../util/disk-usage.ts";
import { type LayerChange, opaqueMarkerOf, whiteoutOf } from "./layer-diff.ts";

const NAMESPACES = ["trusted.", "user."];

/** The layer records of the upper directory `upper`, in tar order; `usage` tallies every entry's blocks. */
export function* overlayChanges(upper: string, usage?: UsageTally): Iterable<LayerChange> {
  yield* walk(upper, "", usage);
}

function* walk(upper: string, rel: string, usage: UsageTally | undefined): Iterable<LayerChange> {
  const dir = rel === "" ? upper : `${upper}/${rel}`;
  const fd = openDirectory(dir);
  try {
    yield* entries(upper, dir, fd, rel, usage);
  } finally {
    closeDirectory(fd);
  }
}

/** The records of directory `dir` (open as `fd`) and below. */
function* entries(upper: string, dir: string, fd: number, rel: string, usage: UsageTally | undefined): Iterable<LayerChange> {
  for (const name of sortedNames(dir)) {
    const childRel = rel === "" ? name : `${rel}/${name}`;
    const host = `${dir}/${name}`;
    const st = lstatNamed(fd, name, host);
    usage?.add(st, isDirectory(st));
    if (isWhiteout(host, st)) {
      yield whiteoutOf(childRel);
      continue;
    }
    yield { kind: "entry", name: childRel, host, st, dirFd: fd };
    if (!isDirectory(st)) continue;
    if (hasOverlayXattr(host, "opaque", "y")) yield opaqueMarkerOf(childRel);
    yield* walk(upper, childRel, usage);
  }
}

function lstatNamed(fd: number, name: string, host: string): EntryStat {
  try {
    return fd >= 0 ? lstatEntryAt(fd, name, host) : lstatEntry(host);
  } catch (e) {
    // A name that is not UTF-8 cannot be put in a layer yet: say so rather than fail on a lost file.
    throw undecodableNameError(host, e) ?? e;
  }
}

function isWhiteout(host: string, st: EntryStat): boolean {
  if (isCharacterDevice(st) && st.rdev === 0) return true;
  return isFile(st) && st.size === 0 && hasOverlayXattr(host, "whiteout");
}

function hasOverlayXattr(host: string, name: string, value?: string): boolean {
  return NAMESPACES.some((ns) => {
    const v = lgetxattr(host, `${ns}overlay.${name}`);
    return v !== undefined && (value === undefined || v.toString() === value);
  });
}
