// `--attest`, `--provenance` and `--sbom` as buildx reads them: each a list of key=value fields
// with a type (the shorthands `true`/`false` meaning enabled or disabled); a later one of the same
// type replaces an earlier one, and --provenance/--sbom come after every --attest. Pushed images
// get min provenance unless it is turned off or BUILDX_NO_DEFAULT_ATTESTATIONS is set, as buildx.
import type { AttestationOptions, ProvenanceOptions, SbomOptions } from "../control/attestation-options.ts";
import type { OutputSpec } from "../exporter/image-options.ts";
import { usageError } from "./build-flag-table.ts";
import { splitCsv } from "./output-flags.ts";

const usage = (message: string, hint?: string) => usageError("build", message, hint);

export type AttestFlags = { attest: string[]; provenance: string | undefined; sbom: string | undefined };

export function parseAttestations(flags: AttestFlags, outputs: readonly OutputSpec[], env: Record<string, string | undefined>): AttestationOptions {
  const byType = new Map<string, Map<string, string>>();
  const specs = [...flags.attest, ...shorthand("sbom", flags.sbom), ...shorthand("provenance", flags.provenance)];
  for (const spec of specs) {
    const fields = attestFields(spec);
    const type = fields.get("type");
    if (type === undefined) throw usage(`attestation "${spec}" has no type`, "write --attest type=provenance,… or --attest type=sbom");
    if (type !== "provenance" && type !== "sbom") throw usage(`unknown attestation type "${type}"`, "kitbuild makes type=provenance and type=sbom");
    byType.set(type, fields);
  }
  const out: AttestationOptions = {};
  const pushes = outputs.some((o) => o.type === "image" && o.push);
  const noDefaults = /^(1|true)$/i.test(env.BUILDX_NO_DEFAULT_ATTESTATIONS ?? "");
  const prov = byType.get("provenance");
  if (prov && !disabled(prov)) out.provenance = provenanceOptions(prov);
  else if (!prov && pushes && !noDefaults) out.provenance = { mode: "min", builderId: "", reproducible: false, byDefault: true };
  const sbom = byType.get("sbom");
  if (sbom && !disabled(sbom)) out.sbom = sbomOptions(sbom);
  return out;
}

/** `--provenance=true|false|FIELDS`: a boolean is enabled or disabled, anything else is the attestation's fields. */
function shorthand(type: string, value: string | undefined): string[] {
  if (value === undefined) return [];
  const asBool = parseBool(value);
  if (asBool !== undefined) return [`type=${type},disabled=${!asBool}`];
  return [`type=${type},${value}`];
}

function attestFields(spec: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of splitCsv(spec)) {
    const eq = part.indexOf("=");
    if (eq < 0) throw usage(`invalid attestation field "${part}" in "${spec}"`, "fields are key=value, e.g. type=provenance,mode=max");
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1));
  }
  return fields;
}

function disabled(fields: Map<string, string>): boolean {
  const v = fields.get("disabled");
  if (v === undefined) return false;
  const b = parseBool(v);
  if (b === undefined) throw usage(`invalid value "${v}" for disabled`, "use disabled=true or disabled=false");
  return b;
}

function provenanceOptions(fields: Map<string, string>): ProvenanceOptions {
  refuseUnknown(fields, "provenance", ["type", "disabled", "mode", "builder-id", "reproducible", "version", "inline-only"]);
  const mode = fields.get("mode") ?? "min";
  if (mode !== "min" && mode !== "max") throw usage(`invalid provenance mode "${mode}"`, "use mode=min or mode=max");
  const version = fields.get("version");
  if (version !== undefined && version !== "v0.2" && version !== "v1") throw usage(`unknown provenance version "${version}"`, "use version=v0.2 (the default) or version=v1");
  const reproducible = fields.get("reproducible");
  const repro = reproducible === undefined ? false : parseBool(reproducible);
  if (repro === undefined) throw usage(`invalid value "${reproducible}" for reproducible`, "use reproducible=true or reproducible=false");
  const inline = fields.get("inline-only");
  const inlineOnly = inline === undefined ? false : parseBool(inline);
  if (inlineOnly === undefined) throw usage(`invalid value "${inline}" for inline-only`, "use inline-only=true or inline-only=false");
  return { mode, builderId: fields.get("builder-id") ?? "", reproducible: repro, ...(version === "v1" ? { version } : {}), ...(inlineOnly ? { inlineOnly: true as const } : {}) };
}

function sbomOptions(fields: Map<string, string>): SbomOptions {
  if (fields.has("generator")) {
    throw usage("--attest type=sbom,generator= is not supported: kitbuild generates the SBOM itself (no scanner image is run)", "drop generator=; kitbuild reads the image's package databases (dpkg, apk, rpm, npm, Python, Go)");
  }
  refuseUnknown(fields, "sbom", ["type", "disabled", "scan-stage", "scan-context"]);
  const flag = (key: string) => {
    const v = fields.get(key);
    const b = v === undefined ? false : parseBool(v);
    if (b === undefined) throw usage(`invalid value "${v}" for ${key}`, `use ${key}=true or ${key}=false`);
    return b;
  };
  const scanStage = flag("scan-stage");
  const scanContext = flag("scan-context");
  if (scanContext) throw usage("--attest type=sbom,scan-context=true is not supported yet", "kitbuild scans the image and, with scan-stage=true, the built stages; drop scan-context");
  return { scanStage, scanContext };
}

function refuseUnknown(fields: Map<string, string>, type: string, known: string[]): void {
  const unknown = [...fields.keys()].find((k) => !known.includes(k));
  if (unknown) throw usage(`unknown ${type} attestation option "${unknown}"`, `the options of type=${type} are ${known.filter((k) => k !== "type").join(", ")}`);
}

/** Go's strconv.ParseBool, as buildx reads these values. */
function parseBool(v: string): boolean | undefined {
  if (/^(1|t|T|TRUE|true|True)$/.test(v)) return true;
  if (/^(0|f|F|FALSE|false|False)$/.test(v)) return false;
  return undefined;
}
