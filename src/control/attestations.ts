// A build's attestations, made once its result exists and before it is exported: the provenance
// predicate (control/provenance.ts) from the request and the graph, and the SBOM of the final
// filesystem (exporter/sbom/scan.ts, mounted read-only as the local exporter reads it). Every
// output of the build receives the same attestations, as BuildKit attaches them per build.
import { randomHex } from "../util/random.ts";
import type { Attestation } from "../exporter/attestations.ts";
import type { Definition } from "../llb/ops.ts";
import { formatPlatform, hostPlatform } from "../oci/platform.ts";
import type { Snapshotter } from "../snapshot/snapshotter.ts";
import type { ProgressSink } from "../util/progress.ts";
import type { ProvenanceMode } from "./attestation-options.ts";
import { metadataProvenance, provenancePredicate, SLSA_PROVENANCE_V02 } from "./provenance.ts";
import { metadataProvenanceV1, provenanceV1, SLSA_PROVENANCE_V1 } from "./provenance-v1.ts";
import { type CapturedSources, captureSources } from "./provenance-sources.ts";
import type { BuildRequest } from "./request.ts";
import { type SbomInputs, sbomAttestations } from "./sbom-attestations.ts";


export type AttestationInputs = {
  req: BuildRequest;
  /** The context as the user gave it (before a git or URL context was fetched). */
  contextArg: string;
  definition: Definition;
  /** What git and http sources resolved to while solving (BuildSession.sourceDigests). */
  sourceDigests: ReadonlyMap<string, string>;
  dockerfile: { name: string; text: string };
  startedOn: Date;
  root: number | null;
  snapshotter: Snapshotter;
  sourceDateEpoch: number | undefined;
  progress: ProgressSink;
  signal: AbortSignal;
} & Pick<SbomInputs, "stages">;

/** Spread into the export request: nothing when the build attests nothing. */
export type MadeAttestations = {
  attestations?: Attestation[];
  /** For --metadata-file's buildx.build.provenance. */
  provenanceMetadata?: Record<string, unknown>;
};

export async function makeAttestations(inp: AttestationInputs): Promise<MadeAttestations> {
  const { provenance, sbom } = inp.req.exports.attest ?? {};
  if (!provenance && !sbom) return {};
  const out: MadeAttestations & { attestations: Attestation[] } = { attestations: [] };
  if (sbom) {
    const name = inp.req.exports.outputs.flatMap((o) => ("names" in o ? o.names : []))[0] ?? "image";
    out.attestations.push(...(await sbomAttestations({ ...inp, name })));
  }
  if (provenance) {
    const predicate = provenancePredicate({
      options: provenance,
      frontendArgs: frontendArgs(inp.req, inp.dockerfile.name),
      ...(isRemoteContext(inp.contextArg) ? { contextUri: inp.contextArg } : {}),
      sources: withDockerfileLocal(captureSources(inp.definition, inp.sourceDigests)),
      builderPlatform: formatPlatform(hostPlatform()),
      invocationId: invocationId(),
      startedOn: inp.startedOn,
      finishedOn: new Date(),
      definition: inp.definition,
      dockerfile: inp.dockerfile,
    });
    const v1 = provenance.version === "v1";
    out.attestations.push({ kind: "provenance", predicateType: v1 ? SLSA_PROVENANCE_V1 : SLSA_PROVENANCE_V02, path: "provenance.json", predicate: v1 ? provenanceV1(predicate) : predicate, ...(provenance.byDefault ? { pushedOnly: true as const } : {}), ...(provenance.inlineOnly ? { inlineOnly: true as const } : {}) });
    const mode = metadataMode(inp.req.env.BUILDX_METADATA_PROVENANCE);
    if (mode) out.provenanceMetadata = v1 ? metadataProvenanceV1(provenanceV1(predicate), mode) : metadataProvenance(predicate, mode);
  }
  return out;
}

/** buildx sends the Dockerfile as a local source of its own ("dockerfile"), which BuildKit lists. */
function withDockerfileLocal(sources: CapturedSources): CapturedSources {
  return { ...sources, locals: [...new Set([...sources.locals, "dockerfile"])].sort() };
}

/** The frontend's options as buildx sends them to BuildKit (and as BuildKit's provenance lists them). */
function frontendArgs(req: BuildRequest, filename: string): Record<string, string> {
  const args: Record<string, string> = { filename };
  if (req.frontend.target) args.target = req.frontend.target;
  for (const [k, v] of Object.entries(req.frontend.buildArgs)) args[`build-arg:${k}`] = v;
  for (const [k, v] of Object.entries(req.exports.labels)) args[`label:${k}`] = v;
  if (req.frontend.forceNetwork) args["force-network-mode"] = req.frontend.forceNetwork;
  if (req.solve.noCache) args["no-cache"] = "";
  if (req.frontend.noCacheFilter.length > 0) args["no-cache"] = req.frontend.noCacheFilter.join(",");
  return args;
}

function isRemoteContext(context: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(context) || /^git@/.test(context) || /^github\.com\//.test(context);
}

/** BUILDX_METADATA_PROVENANCE: min (the default), max, or disabled/false. */
function metadataMode(value: string | undefined): ProvenanceMode | undefined {
  if (value === undefined || value === "" || value === "min" || /^(1|true)$/i.test(value)) return "min";
  if (value === "max") return "max";
  return undefined;
}

/** A build's id in BuildKit's form (identity.NewID): 25 characters of base 36. */
function invocationId(): string {
  const n = BigInt(`0x${randomHex(16)}`);
  return n.toString(36).padStart(25, "0").slice(-25);
}
