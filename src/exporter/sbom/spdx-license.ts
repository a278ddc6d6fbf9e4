// Licenses as SPDX fields accept them: an SPDX license expression is kept; space-separated ids
// (apk's "MIT BSD-2-Clause") are joined with AND; free text ("BSD License", "GPLv2+ and LGPLv2+")
// becomes a LicenseRef whose text is recorded in the document's hasExtractedLicensingInfos, as
// SPDX requires for every LicenseRef used.

export type ExtractedLicense = { licenseId: string; extractedText: string; name?: string };

const ID = /^(?:LicenseRef-[A-Za-z0-9.\-]+|[A-Za-z0-9][A-Za-z0-9.\-]*\+?)$/;
const OPERATOR = new Set(["AND", "OR", "WITH"]);

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
      if (!expectOperand || !ID.test(t) || OPERATOR.has(t.toUpperCase())) return undefined;
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
    if (expressionTokens(text)) return text;
    const ids = text.split(/\s+/);
    if (ids.length > 1 && ids.every((t) => ID.test(t) && !OPERATOR.has(t.toUpperCase()))) return ids.join(" AND ");
    return this.refFor(text);
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
