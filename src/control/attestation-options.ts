// What a build was asked to attest (`--provenance`, `--sbom`, `--attest`), as buildx hands
// BuildKit its `attest:provenance` and `attest:sbom` options.

export type ProvenanceMode = "min" | "max";

export type ProvenanceOptions = {
  mode: ProvenanceMode;
  /** `builder-id=`: the predicate's builder.id (a CI run's URL); empty by default, as BuildKit. */
  builderId: string;
  /** `reproducible=true`: the build claims byte-for-byte reproducibility. */
  reproducible: boolean;
  /** `version=v1`: SLSA provenance v1 instead of v0.2 (BuildKit's default). */
  version?: "v1";
  /** `inline-only=true`: only image outputs carry it (type=local/tar write no provenance.json), as BuildKit. */
  inlineOnly?: true;
  /** buildx's default for pushed images, not asked for: then only the pushed images carry it. */
  byDefault?: true;
};

export type SbomOptions = {
  /** `scan-stage=true`: the intermediate stages are scanned too. */
  scanStage: boolean;
  /** `scan-context=true`: the build context is scanned too. */
  scanContext: boolean;
};

export type AttestationOptions = { provenance?: ProvenanceOptions; sbom?: SbomOptions };
