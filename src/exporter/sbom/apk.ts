// Alpine packages: /lib/apk/db/installed, one stanza per package of "K:value" lines (P name,
// V version, A arch, L license, o origin, m maintainer), stanzas separated by a blank line.
import { distroQualifier, type OsRelease } from "./os-release.ts";
import { supplierOf, type FoundPackage } from "./found-package.ts";
import { purl } from "./purl.ts";
import type { RootFiles } from "./root-files.ts";
import { isLicenseId } from "./spdx-license.ts";

export const APK_INSTALLED = "/lib/apk/db/installed";

export function scanApk(files: RootFiles, os: OsRelease): FoundPackage[] {
  const text = files.readText(APK_INSTALLED);
  if (text === undefined) return [];
  const out: FoundPackage[] = [];
  for (const s of apkStanzas(text)) {
    const name = s.get("P");
    const version = s.get("V");
    if (!name || !version) continue;
    const origin = s.get("o");
    out.push({
      ecosystem: "apk",
      name,
      version,
      supplier: supplierOf(s.get("m")),
      license: apkLicense(s.get("L")),
      purl: purl({
        type: "apk",
        namespace: os.id ?? "alpine",
        name,
        version,
        qualifiers: { arch: s.get("A"), distro: distroQualifier(os), upstream: origin && origin !== name ? origin : undefined },
      }),
      foundIn: APK_INSTALLED,
      foundBy: "apk installed database",
    });
  }
  return out;
}

/** The first value of each key per stanza (file lists repeat F:/R: keys; those are not needed). */
function apkStanzas(text: string): Map<string, string>[] {
  const stanzas: Map<string, string>[] = [];
  let current = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      if (current.size > 0) stanzas.push(current);
      current = new Map();
      continue;
    }
    const m = /^([A-Za-z]):(.*)$/.exec(line);
    if (m && !current.has(m[1] as string)) current.set(m[1] as string, (m[2] as string).trim());
  }
  if (current.size > 0) stanzas.push(current);
  return stanzas;
}

/** Older APKBUILDs list licenses separated by spaces ("MIT BSD-2-Clause"): all of them apply. */
function apkLicense(field: string | undefined): string | undefined {
  const words = field?.trim().split(/\s+/) ?? [];
  return words.length > 1 && words.every(isLicenseId) ? words.join(" AND ") : field;
}
