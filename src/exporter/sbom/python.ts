// Python packages: core metadata (RFC 822 style headers up to the first blank line: Name, Version,
// License-Expression or License, Author) from *.dist-info/METADATA (pip, wheels) and
// *.egg-info/PKG-INFO or *.egg-info files (setuptools; most of Debian's python3-* packages).
import { supplierOf, type FoundPackage } from "./found-package.ts";
import { purl } from "./purl.ts";
import { readHostFile } from "./root-files.ts";
import { parseStanzas } from "./control-stanzas.ts";

const MAX_METADATA_BYTES = 4 * 1024 * 1024;

export function scanPython(root: string, metadataFiles: readonly string[]): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const path of metadataFiles) {
    const bytes = readHostFile(`${root}${path}`, MAX_METADATA_BYTES);
    if (bytes === undefined) continue;
    const text = new TextDecoder().decode(bytes);
    // Only the header block: the long description follows the first blank line.
    const fields = parseStanzas(text.split(/\r?\n\r?\n/, 1)[0] ?? "")[0];
    const name = fields?.get("name");
    const version = fields?.get("version");
    if (!fields || !name || !version) continue;
    out.push({
      ecosystem: "pypi",
      name,
      version,
      license: fields.get("license-expression") ?? shortLicense(fields.get("license")),
      supplier: supplierOf(fields.get("author-email") ?? fields.get("author")),
      purl: purl({ type: "pypi", name: normalizedName(name), version }),
      foundIn: path,
      foundBy: path.endsWith("/METADATA") ? "python package METADATA" : "python egg-info PKG-INFO",
    });
  }
  return out;
}

/** PEP 503 normalization, as the pypi purl type asks: lowercase, runs of "-", "_", "." become "-". */
function normalizedName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** Some packages put the whole license text in License: keep only a one-line value. */
function shortLicense(v: string | undefined): string | undefined {
  if (!v || v === "UNKNOWN" || v.includes("\n") || v.length > 200) return undefined;
  return v;
}
