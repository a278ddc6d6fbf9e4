// What COPY reads from: a directory on the host (a mounted snapshot or the build context) and, for
// the context, its .dockerignore exclusions and the reset of owners to root that BuildKit applies.
import type { BigIntStats } from "node:fs";

/**
 * An entry's checksum digest, possibly remembered from an earlier build: `compute` reads the
 * entry (its xattrs and content) only when the memo cannot vouch for it.
 */
export type EntryDigest = (host: string, st: BigIntStats, compute: () => string) => string;

export type SourceTree = {
  root: string;
  /** Context files belong to root in the image, whatever their owner on the host. */
  resetOwner: boolean;
  isExcluded?: (rel: string) => boolean;
  mustEnter?: (rel: string) => boolean;
  /** Memoized digests of non-directory entries; the default reads every one. */
  entryDigest?: EntryDigest;
  /** Told the digest of every non-directory entry a checksum covers (to explain cache misses). */
  onEntry?: (rel: string, digest: string) => void;
};
