// The SPDX 2.3 JSON document (https://spdx.github.io/spdx-spec/v2.3/) made from the packages found,
// shaped as BuildKit's default scanner (Syft) shapes it: a root package for what was scanned that
// the document DESCRIBES and that CONTAINS every package found. Everything is derived from the
// package list, so the same root filesystem gives the same bytes (with the same `created`).
import pkg from "../../../package.json" with { type: "json" };
import type { FoundPackage, Unread } from "./found-package.ts";
import { LicenseMapper, type ExtractedLicense } from "./spdx-license.ts";

export type SpdxExternalRef = { referenceCategory: "PACKAGE-MANAGER"; referenceType: "purl"; referenceLocator: string };

export type SpdxPackage = {
  name: string;
  SPDXID: string;
  versionInfo?: string;
  supplier?: string;
  downloadLocation: "NOASSERTION";
  filesAnalyzed: false;
  licenseConcluded: string;
  licenseDeclared: string;
  copyrightText: "NOASSERTION";
  externalRefs?: SpdxExternalRef[];
  sourceInfo?: string;
  primaryPackagePurpose?: "CONTAINER" | "LIBRARY" | "APPLICATION" | "OPERATING-SYSTEM";
};

export type SpdxRelationship = { spdxElementId: string; relatedSpdxElement: string; relationshipType: "DESCRIBES" | "CONTAINS" };

export type SpdxDocument = {
  spdxVersion: "SPDX-2.3";
  dataLicense: "CC0-1.0";
  SPDXID: "SPDXRef-DOCUMENT";
  name: string;
  documentNamespace: string;
  creationInfo: { created: string; creators: string[]; comment?: string };
  packages: SpdxPackage[];
  relationships: SpdxRelationship[];
  hasExtractedLicensingInfos?: ExtractedLicense[];
};

export const ROOT_ID = "SPDXRef-DocumentRoot";

export type DocumentInput = {
  name: string;
  sourceDateEpoch: number | undefined;
  packages: readonly FoundPackage[];
  unread: readonly Unread[];
};

export function spdxDocument(input: DocumentInput): SpdxDocument {
  const licenses = new LicenseMapper();
  const packages = sortedUnique(input.packages).map((p) => spdxPackage(p, licenses));
  const extracted = licenses.extracted();
  const unread = input.unread.map((u) => `${u.path} not read: ${u.reason}`).sort();
  return {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: input.name,
    documentNamespace: namespaceOf(input.name, packages, unread),
    creationInfo: {
      created: createdAt(input.sourceDateEpoch),
      creators: [`Tool: kitbuild-${pkg.version}`],
      ...(unread.length > 0 ? { comment: unread.join("; ") } : {}),
    },
    packages: [rootPackage(input.name), ...packages],
    relationships: [
      { spdxElementId: "SPDXRef-DOCUMENT", relatedSpdxElement: ROOT_ID, relationshipType: "DESCRIBES" },
      ...packages.map((p): SpdxRelationship => ({ spdxElementId: ROOT_ID, relatedSpdxElement: p.SPDXID, relationshipType: "CONTAINS" })),
    ],
    ...(extracted.length > 0 ? { hasExtractedLicensingInfos: extracted } : {}),
  };
}

/** Packages ordered by purl, then by the file they came from; the same package in the same file once. */
function sortedUnique(found: readonly FoundPackage[]): FoundPackage[] {
  const byKey = new Map<string, FoundPackage>();
  for (const p of found) {
    const key = `${p.purl}\0${p.foundIn}`;
    if (!byKey.has(key)) byKey.set(key, p);
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
}

function spdxPackage(p: FoundPackage, licenses: LicenseMapper): SpdxPackage {
  const declared = p.licenses !== undefined ? licenses.mapAll(p.licenses) : licenses.map(p.license);
  return {
    name: p.name,
    SPDXID: `SPDXRef-Package-${p.ecosystem}-${idSafe(p.name)}-${sha256(`${p.purl}\0${p.foundIn}`).slice(0, 16)}`,
    versionInfo: p.version,
    ...(p.supplier ? { supplier: p.supplier } : {}),
    downloadLocation: "NOASSERTION",
    filesAnalyzed: false,
    licenseConcluded: "NOASSERTION",
    licenseDeclared: declared,
    copyrightText: "NOASSERTION",
    externalRefs: [{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: p.purl }],
    sourceInfo: `acquired package info from ${p.foundBy}: ${p.foundIn}`,
  };
}

function rootPackage(name: string): SpdxPackage {
  return {
    name,
    SPDXID: ROOT_ID,
    downloadLocation: "NOASSERTION",
    filesAnalyzed: false,
    licenseConcluded: "NOASSERTION",
    licenseDeclared: "NOASSERTION",
    copyrightText: "NOASSERTION",
    primaryPackagePurpose: "CONTAINER",
  };
}

/** SPDX ids allow letters, digits, "." and "-". */
function idSafe(s: string): string {
  return s.replace(/[^A-Za-z0-9.\-]+/g, "-").replace(/^-+|-+$/g, "") || "package";
}

/** A namespace unique to this content: the same name and packages give the same URI. */
function namespaceOf(name: string, packages: readonly SpdxPackage[], unread: readonly string[]): string {
  const content = sha256(JSON.stringify([name, packages, unread]));
  return `https://spdx.org/spdxdocs/kitbuild/${encodeURIComponent(idSafe(name))}-${content.slice(0, 32)}`;
}

/** SPDX's created: UTC with seconds, no fraction ("2024-01-02T03:04:05Z"). */
function createdAt(sourceDateEpoch: number | undefined): string {
  const ms = sourceDateEpoch === undefined ? Date.now() : sourceDateEpoch * 1000;
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

function sha256(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex");
}
