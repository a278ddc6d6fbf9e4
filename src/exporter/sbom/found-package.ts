// What each package-database reader reports: one installed package, before it becomes an SPDX
// package; and what a reader found but could not read.

/** The package ecosystems the scanner knows, named as in their purl type. */
export type Ecosystem = "deb" | "apk" | "rpm" | "npm" | "pypi" | "golang";

export type FoundPackage = {
  ecosystem: Ecosystem;
  name: string;
  version: string;
  /** A supplier in SPDX form ("Person: NAME (EMAIL)" or "Organization: ..."), when the database names one. */
  supplier?: string;
  /** The license as the database states it (an SPDX expression or free text), when it states one. */
  license?: string;
  /** Licenses that all apply, each known to be an SPDX expression or known to be free text (Debian copyright files). */
  licenses?: LicenseFound[];
  purl: string;
  /** Path inside the root of the file the package was read from. */
  foundIn: string;
  /** What kind of file that is, for the package's sourceInfo ("installed dpkg status file"). */
  foundBy: string;
};

export type LicenseFound = { expression: string } | { text: string };

/** What exists but was not read (a BerkeleyDB rpm database, the rest of a walk cut short), recorded in the document. */
export type Unread = { path: string; reason: string };

/** Maps a maintainer or author field ("Name <mail@example.org>") to an SPDX supplier. */
export function supplierOf(who: string | undefined): string | undefined {
  const text = who?.trim();
  if (!text) return undefined;
  const m = /^(.*?)\s*<([^>]*)>\s*$/.exec(text);
  const mail = m?.[2]?.trim() || undefined;
  const name = (m ? m[1] : text)?.trim();
  // "<mail@example.org>" alone: the address is the only name there is.
  if (!name) return mail ? `Person: ${mail}` : undefined;
  // Distribution teams sign as a group; SPDX separates people from organizations.
  const kind = /\b(team|maintainers|developers|project|group)\b/i.test(name) ? "Organization" : "Person";
  return mail ? `${kind}: ${name} (${mail})` : `${kind}: ${name}`;
}
