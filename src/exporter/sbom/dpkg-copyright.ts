// The licenses of a Debian package, from its machine-readable copyright file
// (/usr/share/doc/NAME/copyright in the copyright-format 1.0): the short names of every License:
// field, mapped to SPDX ids where Debian's short name has a known SPDX equivalent. Files that are
// not machine-readable (free prose) give no license: guessing from prose would state more than is known.
import type { LicenseFound } from "./found-package.ts";
import type { RootFiles } from "./root-files.ts";

const MAX_COPYRIGHT_BYTES = 1024 * 1024;

/** Debian short names (copyright-format 1.0, "License specification") whose SPDX id differs. */
const SPDX_OF: Record<string, string> = {
  "gpl-1": "GPL-1.0-only", "gpl-1+": "GPL-1.0-or-later", "gpl-2": "GPL-2.0-only", "gpl-2+": "GPL-2.0-or-later",
  "gpl-3": "GPL-3.0-only", "gpl-3+": "GPL-3.0-or-later", "lgpl-2": "LGPL-2.0-only", "lgpl-2+": "LGPL-2.0-or-later",
  "lgpl-2.1": "LGPL-2.1-only", "lgpl-2.1+": "LGPL-2.1-or-later", "lgpl-3": "LGPL-3.0-only", "lgpl-3+": "LGPL-3.0-or-later",
  "agpl-3": "AGPL-3.0-only", "agpl-3+": "AGPL-3.0-or-later", "gfdl-1.2": "GFDL-1.2-only", "gfdl-1.2+": "GFDL-1.2-or-later",
  "gfdl-1.3": "GFDL-1.3-only", "gfdl-1.3+": "GFDL-1.3-or-later", "expat": "MIT", "mit": "MIT", "isc": "ISC", "zlib": "Zlib",
  "bsd-2-clause": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause", "bsd-4-clause": "BSD-4-Clause", "apache-2.0": "Apache-2.0",
  "artistic": "Artistic-1.0-Perl", "artistic-2.0": "Artistic-2.0", "mpl-1.1": "MPL-1.1", "mpl-2.0": "MPL-2.0", "cc0-1.0": "CC0-1.0",
  "0bsd": "0BSD", "afl-2.0": "AFL-2.0", "afl-2.1": "AFL-2.1", "bsl-1.0": "BSL-1.0", "fsfap": "FSFAP", "fsful": "FSFUL",
  "fsfullr": "FSFULLR", "ntp": "NTP", "x11": "X11", "libpng": "Libpng", "ftl": "FTL", "ofl-1.1": "OFL-1.1", "wtfpl": "WTFPL",
  "cc-by-3.0": "CC-BY-3.0", "cc-by-4.0": "CC-BY-4.0", "cc-by-sa-3.0": "CC-BY-SA-3.0", "cc-by-sa-4.0": "CC-BY-SA-4.0",
  "epl-1.0": "EPL-1.0", "epl-2.0": "EPL-2.0", "gpl-2.0+": "GPL-2.0-or-later", "lgpl-2.1-or-later": "LGPL-2.1-or-later",
  "gpl-2.0-or-later": "GPL-2.0-or-later", "gpl-3.0-or-later": "GPL-3.0-or-later", "agpl-3.0-or-later": "AGPL-3.0-or-later",
  "psf-2": "PSF-2.0", "python-2.0": "Python-2.0", "zope-2.1": "ZPL-2.1", "openssl": "OpenSSL", "curl": "curl", "unicode-dfs-2016": "Unicode-DFS-2016",
};

/** Each distinct license of the package's copyright file, sorted; [] without a machine-readable file. */
export function debianLicenses(files: RootFiles, packageName: string): LicenseFound[] {
  const text = files.readText(`/usr/share/doc/${packageName}/copyright`, MAX_COPYRIGHT_BYTES);
  if (text === undefined || !/^Format:\s*\S*copyright-format/m.test(text)) return [];
  const names = new Set<string>();
  for (const m of text.matchAll(/^License:[ \t]*(.*)$/gm)) {
    const name = (m[1] as string).trim();
    if (name) names.add(name);
  }
  // Several spellings of one license ("BSD-3-clause", "BSD-3-Clause") become one entry; SPDX
  // expressions first, then the names without one.
  const unique = new Map([...names].map(toSpdx).map((l) => ["expression" in l ? l.expression : `\uffff${l.text}`, l] as const));
  return [...unique.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, l]) => l);
}

/**
 * "GPL-2+" → GPL-2.0-or-later, "GPL-2+ or Artistic" → (GPL-2.0-or-later OR Artistic-1.0-Perl); a name
 * with any part lacking a known SPDX id ("public-domain", "GPL-2+ with OpenSSL exception") stays text.
 */
function toSpdx(name: string): LicenseFound {
  const parts = name.split(/\s+(or|and)\s+/i);
  const ids = parts.map((p, i) => (i % 2 === 1 ? p.toUpperCase() : SPDX_OF[p.toLowerCase()]));
  if (ids.some((id) => id === undefined)) return { text: name };
  return { expression: ids.length === 1 ? (ids[0] as string) : `(${ids.join(" ")})` };
}
