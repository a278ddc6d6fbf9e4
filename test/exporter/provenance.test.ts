// The provenance predicate (control/provenance.ts), pure: min mode drops build arguments, labels,
// secrets and ssh ids and says its parameters are incomplete; max mode keeps them and adds the
// steps and the Dockerfile; materials come from the graph's pinned images; a secret's value never
// appears (the graph holds its id only).
import { describe, expect, test } from "bun:test";
import type { Definition } from "../../src/llb/ops.ts";
import { provenancePredicate, metadataProvenance } from "../../src/control/provenance.ts";
import { captureSources } from "../../src/control/provenance-sources.ts";
import { provenanceV1 } from "../../src/control/provenance-v1.ts";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const definition: Definition = {
  vertices: [
    { digest: "sha256:1", vertex: { op: { kind: "source", identifier: `docker-image://docker.io/library/alpine:3.19@${DIGEST}`, attrs: {}, platform: { os: "linux", architecture: "amd64" } }, inputs: [] } },
    { digest: "sha256:2", vertex: { op: { kind: "source", identifier: "local://context", attrs: {} }, inputs: [] } },
    {
      digest: "sha256:3",
      vertex: {
        op: {
          kind: "exec",
          meta: { args: ["sh", "-c", "true"], env: [], cwd: "/", user: "", proxyEnv: { HTTP_PROXY: "http://user:pw@proxy" } },
          mounts: [{ type: "bind", dest: "/", input: 0, output: 0, readonly: false }],
          secretEnv: [{ id: "tok", name: "TOK", optional: false }],
          network: "sandbox",
          security: "sandbox",
        },
        inputs: [{ digest: "sha256:1", output: 0 }],
      },
    },
  ],
  metadata: { "sha256:3": { location: { file: "Dockerfile", ranges: [{ start: 2, end: 2 }] } } },
  root: { digest: "sha256:3", output: 0 },
};

function predicate(mode: "min" | "max") {
  return provenancePredicate({
    options: { mode, builderId: "", reproducible: false },
    frontendArgs: { filename: "Dockerfile", target: "app", "build-arg:VERSION": "1.2", "label:team": "x" },
    sources: captureSources(definition),
    builderPlatform: "linux/amd64",
    invocationId: "id",
    startedOn: new Date("2024-01-01T00:00:00.500Z"),
    finishedOn: new Date("2024-01-01T00:01:00Z"),
    definition,
    dockerfile: { name: "Dockerfile", text: "FROM alpine:3.19\nRUN true\n" },
  }) as Record<string, any>;
}

describe("provenance predicate", () => {
  test("min mode: no build arguments, labels or secret ids; parameters incomplete; no steps", () => {
    const p = predicate("min");
    expect(p.materials).toEqual([{ uri: "pkg:docker/alpine@3.19?platform=linux%2Famd64", digest: { sha256: "ab".repeat(32) } }]);
    expect(p.invocation.configSource).toEqual({ entryPoint: "Dockerfile" });
    expect(p.invocation.parameters).toEqual({ frontend: "dockerfile.v0", args: { target: "app" }, locals: [{ name: "context" }] });
    expect(p.metadata.completeness).toEqual({ parameters: false, environment: true, materials: false });
    expect(p.metadata.buildStartedOn).toBe("2024-01-01T00:00:00.5Z");
    expect(p.buildConfig).toBeUndefined();
    expect(Object.keys(metadataProvenance(p, "min"))).toEqual(["buildType", "materials", "invocation"]);
  });

  test("max mode: arguments, secret ids, steps and the Dockerfile; never proxy credentials", () => {
    const p = predicate("max");
    expect(p.invocation.parameters.args).toEqual({ "build-arg:VERSION": "1.2", "label:team": "x", target: "app" });
    expect(p.invocation.parameters.secrets).toEqual([{ id: "tok", optional: false }]);
    expect(p.metadata.completeness.parameters).toBe(true);
    expect(p.buildConfig.llbDefinition.map((s: { id: string }) => s.id)).toEqual(["step0", "step1", "step2"]);
    expect(p.buildConfig.llbDefinition[2].inputs).toEqual(["step0:0"]);
    const source = p.metadata["https://mobyproject.org/buildkit@v1#metadata"].source;
    expect(source.locations.step2.locations[0].ranges).toEqual([{ start: { line: 2 }, end: { line: 2 } }]);
    expect(Buffer.from(source.infos[0].data, "base64").toString()).toContain("RUN true");
    expect(JSON.stringify(p)).not.toContain("user:pw");
  });

  test("version=v1 carries the same facts under SLSA v1's names", () => {
    const v02 = predicate("max");
    const v1 = provenanceV1(v02) as Record<string, any>;
    expect(v1.buildDefinition.buildType).toBe("https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md");
    expect(v1.buildDefinition.externalParameters.configSource).toEqual({ path: "Dockerfile" });
    expect(v1.buildDefinition.externalParameters.request).toEqual(v02.invocation.parameters);
    expect(v1.buildDefinition.internalParameters.builderPlatform).toBe("linux/amd64");
    expect(v1.buildDefinition.internalParameters.buildConfig).toEqual(v02.buildConfig);
    expect(v1.buildDefinition.resolvedDependencies).toEqual(v02.materials);
    expect(v1.runDetails.metadata).toMatchObject({ invocationID: "id", startedOn: "2024-01-01T00:00:00.5Z", buildkit_completeness: { request: true, resolvedDependencies: false }, buildkit_reproducible: false });
  });
});
