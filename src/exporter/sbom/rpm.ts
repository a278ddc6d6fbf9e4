// RPM packages from rpmdb.sqlite (rpm ≥ 4.16: Fedora, RHEL 9, openSUSE): the Packages table's header
// blobs (opened as rpm-sqlite.ts says). BerkeleyDB (older RHEL/CentOS) and ndb (SUSE) databases are
// recorded as not readable.
import { distroQualifier, type OsRelease } from "./os-release.ts";
import { supplierOf, type FoundPackage, type Unread } from "./found-package.ts";
import { purl } from "./purl.ts";
import type { RootFiles } from "./root-files.ts";
import { parseRpmHeader, RPMTAG, type RpmHeader } from "./rpm-header.ts";
import { rpmHeaderBlobs } from "./rpm-sqlite.ts";

const RPM_DIRS = ["/var/lib/rpm", "/usr/lib/sysimage/rpm"];
const UNREADABLE: Record<string, string> = {
  Packages: "a BerkeleyDB rpm database, which kitbuild cannot read",
  "Packages.db": "an ndb rpm database, which kitbuild cannot read",
};

export type RpmScan = { packages: FoundPackage[]; unread: Unread[] };

export function scanRpm(files: RootFiles, os: OsRelease): RpmScan {
  const result: RpmScan = { packages: [], unread: [] };
  const seen = new Set<string>();
  for (const dir of RPM_DIRS) {
    // /var/lib/rpm is often a symlink to /usr/lib/sysimage/rpm: read one database once.
    const host = files.hostPath(dir);
    if (host === undefined || seen.has(host)) continue;
    seen.add(host);
    const names = new Set(files.list(dir).map((e) => e.name));
    if (names.has("rpmdb.sqlite")) {
      const path = `${dir}/rpmdb.sqlite`;
      const read = readSqlite(files, path, os);
      if ("reason" in read) result.unread.push(read);
      else result.packages.push(...read);
      continue;
    }
    for (const [name, reason] of Object.entries(UNREADABLE)) {
      if (names.has(name)) result.unread.push({ path: `${dir}/${name}`, reason });
    }
  }
  return result;
}

function readSqlite(files: RootFiles, path: string, os: OsRelease): FoundPackage[] | Unread {
  const blobs = rpmHeaderBlobs(files, path);
  if (!Array.isArray(blobs)) return { path, reason: blobs.reason };
  const out: FoundPackage[] = [];
  for (const blob of blobs) {
    const header = parseRpmHeader(blob);
    const p = header && packageOf(header, path, os);
    if (p) out.push(p);
  }
  return out;
}

function packageOf(h: RpmHeader, path: string, os: OsRelease): FoundPackage | undefined {
  const name = h.strings.get(RPMTAG.name);
  const version = h.strings.get(RPMTAG.version);
  // gpg-pubkey entries are imported signing keys, not packages.
  if (!name || !version || name === "gpg-pubkey") return undefined;
  const release = h.strings.get(RPMTAG.release);
  const epoch = h.ints.get(RPMTAG.epoch);
  const full = `${epoch !== undefined && epoch !== 0 ? `${epoch}:` : ""}${version}${release ? `-${release}` : ""}`;
  const source = h.strings.get(RPMTAG.sourcerpm);
  return {
    ecosystem: "rpm",
    name,
    version: full,
    supplier: vendorOf(h) ?? supplierOf(h.strings.get(RPMTAG.packager)),
    license: h.strings.get(RPMTAG.license),
    purl: purl({
      type: "rpm",
      namespace: os.id,
      name,
      version: `${version}${release ? `-${release}` : ""}`,
      qualifiers: {
        arch: h.strings.get(RPMTAG.arch),
        epoch: epoch !== undefined && epoch !== 0 ? String(epoch) : undefined,
        distro: distroQualifier(os),
        upstream: source,
      },
    }),
    foundIn: path,
    foundBy: "rpm database",
  };
}

/** The vendor ("Red Hat, Inc.") is a company: an SPDX Organization. */
function vendorOf(h: RpmHeader): string | undefined {
  const vendor = h.strings.get(RPMTAG.vendor)?.trim();
  return vendor ? `Organization: ${vendor}` : undefined;
}
