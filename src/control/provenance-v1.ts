// SLSA provenance v1 (`version=v1`), as BuildKit converts its v0.2 predicate: the same facts under
// v1's names (buildDefinition: externalParameters with the config source and the request,
// internalParameters with the steps and the builder's platform, resolvedDependencies; runDetails:
// builder and metadata, BuildKit's extensions as buildkit_* fields). Pure.

export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1";
const BUILDKIT_V1_BUILD_TYPE = "https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md";

type Json = Record<string, any>;

export function provenanceV1(v02: Json): Json {
  const inv = v02.invocation as Json;
  const meta = v02.metadata as Json;
  const completeness = meta.completeness as Json;
  const { entryPoint, ...source } = inv.configSource as Json;
  const internal = defined({ buildConfig: v02.buildConfig, builderPlatform: inv.environment.platform });
  return {
    buildDefinition: defined({
      buildType: BUILDKIT_V1_BUILD_TYPE,
      externalParameters: { configSource: defined({ ...source, path: entryPoint }), request: inv.parameters },
      internalParameters: internal,
      resolvedDependencies: v02.materials,
    }),
    runDetails: {
      builder: v02.builder,
      metadata: defined({
        invocationID: meta.buildInvocationID,
        startedOn: meta.buildStartedOn,
        finishedOn: meta.buildFinishedOn,
        buildkit_metadata: meta["https://mobyproject.org/buildkit@v1#metadata"],
        buildkit_hermetic: completeness["https://mobyproject.org/buildkit@v1#hermetic"] === true ? true : undefined,
        buildkit_completeness: { request: completeness.parameters, resolvedDependencies: completeness.materials },
        buildkit_reproducible: meta.reproducible,
      }),
    },
  };
}

function defined(o: Json): Json {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** buildx.build.provenance of a v1 predicate: min keeps the build definition without its steps. */
export function metadataProvenanceV1(predicate: Json, mode: "min" | "max"): Json {
  if (mode === "max") return predicate;
  const { internalParameters, ...definition } = predicate.buildDefinition as Json;
  const { buildConfig: _steps, ...internal } = (internalParameters ?? {}) as Json;
  return { buildDefinition: { ...definition, ...(Object.keys(internal).length > 0 ? { internalParameters: internal } : {}) } };
}
