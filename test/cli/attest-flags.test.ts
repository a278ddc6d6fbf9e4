// --provenance, --sbom, --attest and --annotation as buildx reads them: bare shorthands, booleans,
// later ones of a type replacing earlier ones, the default provenance of pushed images, and the
// annotations' types reaching every image output.
import { describe, expect, test } from "bun:test";
import { parseBuildFlags } from "../../src/cli/build-flags.ts";

const attest = (argv: string[], env: Record<string, string> = {}) => parseBuildFlags([...argv, "."], env).exports.attest;

describe("attestation flags", () => {
  test("bare shorthands are true and take no value from the next argument", () => {
    const f = parseBuildFlags(["--provenance", "--sbom", "."], {});
    expect(f.frontend.contextDir).toBe(".");
    expect(f.exports.attest).toEqual({ provenance: { mode: "min", builderId: "", reproducible: false }, sbom: { scanStage: false, scanContext: false } });
  });

  test("--provenance and --sbom override --attest of their type; false turns one off", () => {
    expect(attest(["--attest", "type=provenance,mode=max", "--provenance=mode=min,builder-id=https://ci/1"])?.provenance).toEqual({ mode: "min", builderId: "https://ci/1", reproducible: false });
    expect(attest(["--attest", "type=sbom", "--sbom=false"])).toEqual({});
    expect(attest(["--attest", "type=provenance,disabled=true"])).toEqual({});
  });

  test("pushed images get min provenance unless it is off", () => {
    expect(attest(["--push", "-t", "r.example/app"])?.provenance).toEqual({ mode: "min", builderId: "", reproducible: false, byDefault: true });
    expect(attest(["--push", "-t", "r.example/app", "--provenance=false"])).toEqual({});
    expect(attest(["--push", "-t", "r.example/app"], { BUILDX_NO_DEFAULT_ATTESTATIONS: "1" })).toEqual({});
    expect(attest(["-o", "type=oci,dest=x.tar"])).toEqual({});
  });

  test("--annotation types go to every image output; the output's own attribute wins", () => {
    const f = parseBuildFlags(["--annotation", "a=1", "--annotation", "index,manifest-descriptor:b=2", "--provenance=true", "-o", "type=oci,dest=x,annotation.a=own", "-o", "type=local,dest=out", "."], {});
    expect(f.exports.outputs[0]).toMatchObject({ annotations: { a: "own" }, indexAnnotations: { b: "2" }, manifestDescriptorAnnotations: { b: "2" } });
    expect(f.exports.outputs[1]).toEqual({ type: "local", dest: "out" });
  });
});
