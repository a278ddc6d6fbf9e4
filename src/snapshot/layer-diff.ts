// Layers from snapshots: the changes of one snapshot relative to its parent (found by the
// snapshotter: an overlay upper dir, or a tree comparison) written as a deterministic OCI layer tar
// (see archive/tar.ts), hashed on the way. The stream is a Node Readable so an exporter can pipe it
// into a compressor and a file; `done` gives the DiffID (digest of the uncompressed tar) and size.
import type { Readable } from "node:stream";
import type { EntryStat } from "../fs/entry-stat.ts";
import type { Digest } from "../oci/types.ts";
import { canceledError } from "../util/abort.ts";
import { type LinkMap, packEntry, packMarker } from "../archive/tar.ts";
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from "../archive/tar-extract.ts";
import { TarWriter } from "../archive/tar-writer.ts";
import { KitError } from "../util/errors.ts";

/** One record of a layer, in the order it goes into the tar. */
export type LayerChange =
  /** An added or changed entry; `name` is relative to the root ("a/b"). */
  | { kind: "entry"; name: string; host: string; st: EntryStat }
  /** An OCI whiteout ("a/.wh.b") or opaque marker ("a/.wh..wh..opq"), by its full name. */
  | { kind: "marker"; name: string };

export type DiffOptions = {
  /** Clamp mtimes to this (seconds since the epoch): SOURCE_DATE_EPOCH. */
  sourceDateEpoch?: number;
  signal: AbortSignal;
};

export type LayerDigest = { diffId: Digest; size: number };

export type LayerDiff = {
  /** The uncompressed layer tar; it must be read to the end for `done` to settle. */
  stream: Readable;
  done: Promise<LayerDigest>;
};

/** The marker record deleting `name` ("a/b" → "a/.wh.b"). */
export function whiteoutOf(name: string): LayerChange {
  const slash = name.lastIndexOf("/");
  return { kind: "marker", name: `${name.slice(0, slash + 1)}${WHITEOUT_PREFIX}${name.slice(slash + 1)}` };
}

/** The marker record making directory `name` opaque. */
export function opaqueMarkerOf(name: string): LayerChange {
  return { kind: "marker", name: `${name}/${OPAQUE_MARKER}` };
}

/**
 * A full collection after every so many entries: the garbage of many small files (names, stats,
 * headers) otherwise grew the heap by tens of MB before the collector ran on its own (B3's 20,000
 * files: peak RSS 153-159 MB, with a collection every 3,000 entries 124-129). Since the layer is
 * made while the next RUN runs, beside what that step holds, every 1,000 (B3: 130-136 MB with
 * 3,000, 123-125 with 1,000; the build's time the same). Counted in entries, not bytes, so a layer
 * of a few large files pays for none.
 */
const COLLECT_EVERY_ENTRIES = 1000;

/** Writes `changes` as a layer tar. */
export function writeLayerTar(changes: Iterable<LayerChange>, opts: DiffOptions): LayerDiff {
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  let settle: { resolve: (d: LayerDigest) => void; reject: (e: Error) => void } | undefined;
  const done = new Promise<LayerDigest>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => {}); // the caller may only read the stream; the error reaches it there too
  const tar = new TarWriter({
    onChunk(chunk) {
      hasher.update(chunk);
      size += chunk.length;
    },
    onEnd() {
      settle?.resolve({ diffId: `sha256:${hasher.digest("hex")}`, size });
    },
  });
  tar.stream.on("close", () => settle?.reject(new KitError("E_LAYER_DIFF", "the layer stream was closed before its end")));
  tar.stream.on("error", (e) => settle?.reject(e));
  void produce(tar, changes, opts);
  return { stream: tar.stream, done };
}

async function produce(tar: TarWriter, changes: Iterable<LayerChange>, opts: DiffOptions): Promise<void> {
  const links: LinkMap = new Map();
  let entries = 0;
  try {
    for (const change of changes) {
      if (opts.signal.aborted) throw canceledError(opts.signal);
      if (++entries % COLLECT_EVERY_ENTRIES === 0) Bun.gc(true);
      if (change.kind === "marker") await packMarker(tar, change.name, opts);
      else await packEntry(tar, change.name, change.host, change.st, links, opts);
    }
    await tar.finish();
  } catch (e) {
    tar.abort(e instanceof Error ? e : new Error(String(e)));
  }
}
