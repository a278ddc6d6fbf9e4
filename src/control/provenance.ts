// The SLSA v0.2 provenance predicate BuildKit writes (its provenance capture and processor): the
// builder, the build type, the materials, the invocation (the Dockerfile as entry point, the
// frontend's arguments, the platform), the metadata (invocation id, start and finish times,
// completeness, reproducibility) and, in max mode, the build's steps and the Dockerfile's source.
// min mode leaves out build arguments, labels, secrets and ssh ids, as BuildKit's. Pure: every
// input is given. Secret values never reach it: the graph holds secret ids only.
import type { Definition } from "../llb/ops.ts";
import type { ProvenanceOptions } from "./attestation-options.ts";
import type { CapturedSources } from "./provenance-sources.ts";
import { buildConfig, sourceMetadata } from "./provenance-max.ts";

export const SLSA_PROVENANCE_V02 = "https://slsa.dev/provenance/v0.2";
export const BUILDKIT_BUILD_TYPE = "https://mobyproject.org/buildkit@v1";
const BUILDKIT_METADATA = "https://mobyproject.org/buildkit@v1#metadata";
const BUILDKIT_HERMETIC = "https://mobyproject.org/buildkit@v1#hermetic";

export type ProvenanceInputs = {
  options: ProvenanceOptions;
  /** The frontend's arguments as buildx sends them: "filename", "target", "build-arg:NAME", "label:KEY"… */
  frontendArgs: Record<string, string>;
  /** A remote context's address (git or URL); local contexts have none. */
  contextUri?: string;
  sources: CapturedSources;
  /** The builder's platform ("linux/amd64"). */
  builderPlatform: string;
  invocationId: string;
  startedOn: Date;
  finishedOn: Date;
  /** max mode: the graph and the Dockerfile's text. */
  definition: Definition;
  dockerfile: { name: string; text: string };
};

export function provenancePredicate(inp: ProvenanceInputs): Record<string, unknown> {
  const { options, sources } = inp;
  const args = { ...inp.frontendArgs };
  const entryPoint = args.filename;
  delete args.filename;
  let parametersComplete = true;
  if (options.mode === "min") {
    for (const k of Object.keys(args)) {
      if (k.startsWith("build-arg:") || k.startsWith("label:")) {
        delete args[k];
        parametersComplete = false;
      }
    }
  }
  const contextMaterial = inp.contextUri ? sources.materials.find((m) => m.uri === inp.contextUri) : undefined;
  const configSource = defined({ uri: inp.contextUri, digest: contextMaterial?.digest, entryPoint });
  const max = options.mode === "max";
  const parameters = defined({
    frontend: "dockerfile.v0",
    args: Object.keys(args).length > 0 ? sortedRecord(args) : undefined,
    secrets: max && sources.secrets.length > 0 ? sources.secrets : undefined,
    ssh: max && sources.ssh.length > 0 ? sources.ssh : undefined,
    locals: sources.locals.length > 0 ? sources.locals.map((name) => ({ name })) : undefined,
  });
  // A local source is not tracked by digest, so the materials are then incomplete (BuildKit's rule).
  const incompleteMaterials = sources.incompleteMaterials || sources.locals.length > 0;
  const steps = max ? buildConfig(inp.definition) : undefined;
  const buildkitMetadata = max && steps ? defined({ source: sourceMetadata(inp.definition, steps.ids, inp.dockerfile) }) : {};
  return defined({
    builder: { id: options.builderId },
    buildType: BUILDKIT_BUILD_TYPE,
    materials: sources.materials.length > 0 ? sources.materials : undefined,
    invocation: { configSource, parameters, environment: { platform: inp.builderPlatform } },
    buildConfig: steps?.config,
    metadata: {
      buildInvocationID: inp.invocationId,
      buildStartedOn: goTime(inp.startedOn),
      buildFinishedOn: goTime(inp.finishedOn),
      reproducible: options.reproducible,
      completeness: defined({
        parameters: parametersComplete,
        environment: true,
        materials: !incompleteMaterials,
        [BUILDKIT_HERMETIC]: !incompleteMaterials && !sources.networkAccess ? true : undefined,
      }),
      [BUILDKIT_METADATA]: buildkitMetadata,
    },
  });
}

/** buildx's `buildx.build.provenance` in its default (min) form: what was built from what, without run details. */
export function metadataProvenance(predicate: Record<string, unknown>, mode: "min" | "max"): Record<string, unknown> {
  if (mode === "max") return predicate;
  const { buildType, materials, invocation } = predicate;
  return defined({ buildType, materials, invocation });
}

/** Go's RFC 3339 with the fraction's trailing zeros dropped. */
function goTime(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, f: string) => (f ? `.${f}Z` : "Z"));
}

function sortedRecord(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
