// What COPY reads from: a directory on the host (a mounted snapshot or the build context) and, for
// the context, its .dockerignore exclusions and the reset of owners to root that BuildKit applies.
import type { EntryStat } from "../fs/entry-stat.ts";

/**
 * An entry's checksum digest, possibly remembered from an earlier build: `compute` reads the
 * entry (its xattrs and content) only when the memo cannot vouch for it. It is the same function
 * for every entry of a walk, so neither side makes one per entry.
 */
export type EntryDigest = (host: string, st: EntryStat, compute: (host: string, st: EntryStat) => string) => string;

/** A directory's names (at `host`, stat'ed as `st`), sorted as a walk takes them. */
export type ListDirectory = (host: string, st: EntryStat) => string[];

export type SourceTree = {
  root: string;
  /** Context files belong to root in the image, whatever their owner on the host. */
  resetOwner: boolean;
  isExcluded?: (rel: string) => boolean;
  mustEnter?: (rel: string) => boolean;
  /** Memoized digests of non-directory entries; the default reads every one. */
  entryDigest?: EntryDigest;
  /** Lists a directory for a checksum, possibly as remembered from an earlier build; the default reads it. */
  listDirectory?: ListDirectory;
  /** Told the size of every file whose content a checksum had to read (the memo could not vouch for it). */
  onRead?: (bytes: number) => void;
  /** Told the digest of every non-directory entry a checksum covers (to explain cache misses). */
  onEntry?: (rel: string, digest: string) => void;
  /** The same for a whole source's entries at once, when they were recorded earlier in the build (else onEntry each): paths and digests in pairs. */
  onEntries?: (entries: readonly string[]) => void;
  /**
   * Whole sources already checksummed in this build (the context load checksums the paths the
   * build reads first), so a step's checksum of the same source walks nothing again.
   */
  sourceDigests?: SourceDigests;
};

/**
 * A source's digest (undefined: nothing of it is selected) and its entries (context path, digest,
 * path, digest...: no array per entry), by context path and host path.
 */
export type SourceDigests = Map<string, { digest: string | undefined; entries: string[] }>;
