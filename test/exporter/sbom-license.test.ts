// Licenses as the SBOM's licenseDeclared holds them: SPDX expressions kept, anything else a
// LicenseRef defined with its text (SPDX requires every LicenseRef used to be defined).
import { describe, expect, test } from "bun:test";
import { LicenseMapper } from "../../src/exporter/sbom/spdx-license.ts";

describe("license mapping", () => {
  test("SPDX expressions are kept as written", () => {
    const m = new LicenseMapper();
    for (const e of ["MIT", "(MIT OR Apache-2.0) AND BSD-3-Clause", "GPL-2.0-or-later WITH Classpath-exception-2.0", "GPL-2.0+", "LicenseRef-custom-1"]) expect(m.map(e)).toBe(e);
    expect(m.extracted()).toEqual([]);
  });

  test("free text, broken expressions and id-shaped names on no SPDX list become LicenseRefs with their text", () => {
    const m = new LicenseMapper();
    const inputs = ["Apache License 2.0", "MIT OR", "(MIT", "GPLv2", "BSD", "GPLv2+ and LGPLv2+"];
    const refs = inputs.map((t) => m.map(t));
    for (const r of refs) expect(r).toMatch(/^LicenseRef-[A-Za-z0-9.\-]+-[0-9a-f]{8}$/);
    expect(new Set(refs).size).toBe(inputs.length);
    expect(m.extracted().map((l) => l.extractedText).sort()).toEqual([...inputs].sort());
    // The same text maps to the same ref, defined once.
    expect(m.map("GPLv2")).toBe(refs[3] as string);
    expect(m.extracted().length).toBe(inputs.length);
  });

  test("nothing found is NOASSERTION; licenses that all apply are joined with AND", () => {
    const m = new LicenseMapper();
    expect(m.map(undefined)).toBe("NOASSERTION");
    expect(m.map("  ")).toBe("NOASSERTION");
    expect(m.mapAll([])).toBe("NOASSERTION");
    const all = m.mapAll([{ expression: "MIT" }, { expression: "GPL-2.0-only OR BSD-2-Clause" }, { text: "public-domain" }]);
    expect(all).toMatch(/^MIT AND \(GPL-2\.0-only OR BSD-2-Clause\) AND LicenseRef-public-domain-[0-9a-f]{8}$/);
  });
});
