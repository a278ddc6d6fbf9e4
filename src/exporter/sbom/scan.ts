// The SBOM generator: an SPDX 2.3 JSON document of the packages installed in a root filesystem,
// found by kitbuild itself from the package databases there (no scanner image is needed, so it
// works offline). The attestation exporter calls scanRootfs on the mounted image or stage.
//
// Contract: `rootDir` is only read, every path in it is resolved in-root (symlinks never lead out
// of it), unreadable or malformed databases are skipped (the ones that exist but cannot be read are
// named in creationInfo.comment), and the output depends only on the files and the options.
import { canceledError } from "../../util/abort.ts";
import { scanDpkg } from "./dpkg.ts";
import type { FoundPackage, UnreadDatabase } from "./found-package.ts";
import { readOsRelease } from "./os-release.ts";
import { RootFiles } from "./root-files.ts";
import { spdxDocument, type SpdxDocument } from "./spdx.ts";

export type { SpdxDocument } from "./spdx.ts";

export type SbomScanOptions = {
  /** Name of what is scanned, for the document name/ SPDX namespace (the image name or "stage NAME"). */
  name: string;
  /** SOURCE_DATE_EPOCH in seconds when set, else undefined: the document's `created` comes from it (reproducible). */
  sourceDateEpoch: number | undefined;
  signal: AbortSignal;
};

/** An SPDX 2.3 JSON document describing the packages found in the root filesystem at `rootDir`. */
export async function scanRootfs(rootDir: string, opts: SbomScanOptions): Promise<SpdxDocument> {
  const files = new RootFiles(rootDir, opts.signal);
  const os = readOsRelease(files);
  const packages: FoundPackage[] = [];
  const unread: UnreadDatabase[] = [];
  const check = () => {
    if (opts.signal.aborted) throw canceledError(opts.signal);
  };
  check();
  packages.push(...scanDpkg(files, os));
  check();
  return spdxDocument({ name: opts.name, sourceDateEpoch: opts.sourceDateEpoch, packages, unread });
}
