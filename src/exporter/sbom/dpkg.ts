// Debian packages: /var/lib/dpkg/status (packages whose Status ends in "installed") and the
// per-package files of /var/lib/dpkg/status.d/ that distroless images carry instead; licenses from
// each package's copyright file (dpkg-copyright.ts).
import { distroQualifier, type OsRelease } from "./os-release.ts";
import { supplierOf, type FoundPackage } from "./found-package.ts";
import { purl } from "./purl.ts";
import type { RootFiles } from "./root-files.ts";
import { parseStanzas } from "./control-stanzas.ts";
import { debianLicenses } from "./dpkg-copyright.ts";

export const DPKG_STATUS = "/var/lib/dpkg/status";
const STATUS_DIR = "/var/lib/dpkg/status.d";

export function scanDpkg(files: RootFiles, os: OsRelease): FoundPackage[] {
  const found: FoundPackage[] = [];
  const status = files.readText(DPKG_STATUS);
  if (status !== undefined) found.push(...packagesOf(files, status, DPKG_STATUS, os, true));
  for (const entry of files.list(STATUS_DIR)) {
    // status.d holds one stanza per package, beside its .md5sums lists.
    if (entry.name.endsWith(".md5sums")) continue;
    const path = `${STATUS_DIR}/${entry.name}`;
    const text = files.readText(path);
    if (text !== undefined) found.push(...packagesOf(files, text, path, os, false));
  }
  return found;
}

function packagesOf(files: RootFiles, text: string, path: string, os: OsRelease, statusRequired: boolean): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const s of parseStanzas(text)) {
    const name = s.get("package");
    const version = s.get("version");
    if (!name || !version || !isInstalled(s.get("status"), statusRequired)) continue;
    const arch = s.get("architecture");
    const source = sourceName(s.get("source"));
    out.push({
      ecosystem: "deb",
      name,
      version,
      supplier: supplierOf(s.get("maintainer")),
      licenses: debianLicenses(files, name),
      purl: purl({
        type: "deb",
        namespace: os.id === "ubuntu" ? "ubuntu" : "debian",
        name,
        version,
        qualifiers: { arch, distro: distroQualifier(os), upstream: source && source !== name ? source : undefined },
      }),
      foundIn: path,
      foundBy: "installed dpkg status file",
    });
  }
  return out;
}

/** "install ok installed" (the third word is the state); distroless status.d stanzas may have no Status. */
function isInstalled(status: string | undefined, required: boolean): boolean {
  if (status === undefined) return !required;
  return status.split(/\s+/)[2] === "installed";
}

/** Source: "glibc" or "glibc (2.36-9)": the name alone. */
function sourceName(field: string | undefined): string | undefined {
  return field?.split(/\s+/)[0] || undefined;
}
