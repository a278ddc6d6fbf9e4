// Licenses as SPDX fields accept them: an SPDX license expression is kept; free text ("BSD License",
// "GPLv2+ and LGPLv2+")
// becomes a LicenseRef whose text is recorded in the document's hasExtractedLicensingInfos, as
// SPDX requires for every LicenseRef used.

import type { LicenseFound } from "./found-package.ts";

export type ExtractedLicense = { licenseId: string; extractedText: string; name?: string };

const ID = /^(?:LicenseRef-[A-Za-z0-9.\-]+|[A-Za-z0-9][A-Za-z0-9.\-]*\+?)$/;
const OPERATOR = new Set(["AND", "OR", "WITH"]);

/**
 * Names in common use that have an id's form but are on no SPDX list ("GPLv2", "BSD", "Apache"):
 * they are free text. (kitbuild carries no copy of the license list: other ids are checked for form only.)
 */
const NOT_SPDX = /^(?:(?:A|L)?GPLv?\d?(?:\.\d)?\+?|BSD|Apache|MPL|public-domain|PublicDomain|Proprietary|UNKNOWN|UNLICENSED)$/i;

/** Whether `word` has the form of an SPDX license id (the license list itself is not checked). */
export function isLicenseId(word: string): boolean {
  return ID.test(word) && !OPERATOR.has(word.toUpperCase()) && !NOT_SPDX.test(word);
}

/** The tokens of `text` as an SPDX expression, or undefined when it is not one. */
function expressionTokens(text: string): string[] | undefined {
  const tokens = text.replace(/([()])/g, " $1 ").split(/\s+/).filter(Boolean);
  let depth = 0;
  let expectOperand = true;
  for (const t of tokens) {
    if (t === "(") {
      if (!expectOperand) return undefined;
      depth++;
    } else if (t === ")") {
      if (expectOperand || --depth < 0) return undefined;
    } else if (OPERATOR.has(t)) {
      if (expectOperand) return undefined;
      expectOperand = true;
    } else {
      if (!expectOperand || !isLicenseId(t)) return undefined;
      expectOperand = false;
    }
  }
  return depth === 0 && !expectOperand ? tokens : undefined;
}

/** Collects the LicenseRefs a document uses while mapping each package's license. */
export class LicenseMapper {
  private readonly refs = new Map<string, ExtractedLicense>();

  /** The SPDX value for a license as found; NOASSERTION when none was found. */
  map(found: string | undefined): string {
    const text = found?.trim();
    if (!text) return "NOASSERTION";
    return expressionTokens(text) ? text : this.refFor(text);
  }

  /** The SPDX value for licenses that all apply: their conjunction, free-text parts as LicenseRefs. */
  mapAll(found: readonly LicenseFound[]): string {
    const parts = found.map((l) => ("expression" in l ? l.expression : this.refFor(l.text)));
    if (parts.length === 0) return "NOASSERTION";
    if (parts.length === 1) return parts[0] as string;
    return parts.map((p) => (p.includes(" ") && !p.startsWith("(") ? `(${p})` : p)).join(" AND ");
  }

  private refFor(text: string): string {
    const slug = text.replace(/[^A-Za-z0-9.\-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48) || "unknown";
    const id = `LicenseRef-${slug}-${hash8(text)}`;
    if (!this.refs.has(id)) this.refs.set(id, { licenseId: id, extractedText: text });
    return id;
  }

  /** The LicenseRefs used, sorted by id. */
  extracted(): ExtractedLicense[] {
    return [...this.refs.values()].sort((a, b) => (a.licenseId < b.licenseId ? -1 : 1));
  }
}

function hash8(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex").slice(0, 8);
}
