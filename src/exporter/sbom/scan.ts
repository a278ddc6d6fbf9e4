// The SBOM generator: an SPDX 2.3 JSON document of the packages installed in a root filesystem,
// found by kitbuild itself from the package databases there (no scanner image is needed, so it
// works offline). The attestation exporter calls scanRootfs on the mounted image or stage.
//
// Contract: `rootDir` is only read, every path in it is resolved in-root (symlinks never lead out
// of it), unreadable or malformed databases are skipped (the ones that exist but cannot be read are
// named in creationInfo.comment), and the output depends only on the files and the options.
import { canceledError } from "../../util/abort.ts";
import { scanApk } from "./apk.ts";
import { scanDpkg } from "./dpkg.ts";
import type { FoundPackage, Unread } from "./found-package.ts";
import { scanGo } from "./go-buildinfo.ts";
import { scanNpm } from "./npm.ts";
import { readOsRelease } from "./os-release.ts";
import { scanPython } from "./python.ts";
import { RootFiles } from "./root-files.ts";
import { scanRpm } from "./rpm.ts";
import { spdxDocument, type SpdxDocument } from "./spdx.ts";
import { walkRoot } from "./tree-walk.ts";

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
  const files = new RootFiles(rootDir);
  const os = readOsRelease(files);
  const packages: FoundPackage[] = [];
  const unread: Unread[] = [];
  const check = () => {
    if (opts.signal.aborted) throw canceledError(opts.signal);
  };
  check();
  packages.push(...scanDpkg(files, os), ...scanApk(files, os));
  const rpm = scanRpm(files, os);
  packages.push(...rpm.packages);
  unread.push(...rpm.unread);
  check();
  const finds = await walkRoot(rootDir, opts.signal);
  if (finds.truncated) unread.push({ path: "/", reason: "the file walk stopped after its entry limit; language packages beyond it are not listed" });
  packages.push(...scanNpm(rootDir, finds.npmLocks, finds.npmPackages));
  packages.push(...scanPython(rootDir, finds.pythonMetadata));
  check();
  packages.push(...scanGo(rootDir, finds.executables, opts.signal));
  check();
  return spdxDocument({ name: opts.name, sourceDateEpoch: opts.sourceDateEpoch, packages, unread });
}
