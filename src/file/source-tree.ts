// What COPY reads from: a directory on the host (a mounted snapshot or the build context) and, for
// the context, its .dockerignore exclusions and the reset of owners to root that BuildKit applies.
import type { BigIntStats } from "node:fs";

/** A file's content digest (hex sha256), possibly remembered from an earlier build. */
export type FileDigest = (host: string, st: BigIntStats) => string;

export type SourceTree = {
  root: string;
  /** Context files belong to root in the image, whatever their owner on the host. */
  resetOwner: boolean;
  isExcluded?: (rel: string) => boolean;
  mustEnter?: (rel: string) => boolean;
  /** Content digests for checksums; the default reads every file. */
  fileDigest?: FileDigest;
  /** Told the digest of every non-directory entry a checksum covers (to explain cache misses). */
  onEntry?: (rel: string, digest: string) => void;
};
