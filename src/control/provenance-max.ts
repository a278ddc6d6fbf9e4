// What max-mode provenance adds, as BuildKit's: the build's steps (buildConfig.llbDefinition, each
// step with its op and inputs "stepN:OUTPUT", and digestMapping from vertex digests to step ids)
// and the source map from steps to the Dockerfile's lines with the Dockerfile's text. The ops are
// kitbuild's graph ops (its llb), not BuildKit's protobuf ones. Proxy variables are left out: their
// values may carry credentials and are kept out of the steps' cache keys for the same reason.
import type { Definition, Op } from "../llb/ops.ts";

export type BuildSteps = { ids: Map<string, string>; config: Record<string, unknown> };

export function buildConfig(def: Definition): BuildSteps {
  const ids = new Map(def.vertices.map(({ digest }, i) => [digest, `step${i}`] as const));
  const llbDefinition = def.vertices.map(({ digest, vertex }) => {
    const inputs = vertex.inputs.map((e) => `${ids.get(e.digest)}:${e.output}`);
    return { id: ids.get(digest), op: withoutProxyEnv(vertex.op), ...(inputs.length > 0 ? { inputs } : {}) };
  });
  const digestMapping = Object.fromEntries(def.vertices.map(({ digest }) => [digest, ids.get(digest)]));
  return { ids, config: { llbDefinition, digestMapping } };
}

function withoutProxyEnv(op: Op): Op {
  if (op.kind !== "exec" || !op.meta.proxyEnv) return op;
  const { proxyEnv: _proxy, ...meta } = op.meta;
  return { ...op, meta };
}

/** The steps' Dockerfile lines and the Dockerfile itself (base64, as Go writes bytes). */
export function sourceMetadata(def: Definition, ids: Map<string, string>, dockerfile: { name: string; text: string }): Record<string, unknown> | undefined {
  const locations: Record<string, unknown> = {};
  for (const { digest } of def.vertices) {
    const loc = def.metadata[digest]?.location;
    if (!loc || loc.ranges.length === 0) continue;
    locations[ids.get(digest) as string] = { locations: [{ ranges: loc.ranges.map((r) => ({ start: { line: r.start }, end: { line: r.end } })) }] };
  }
  if (Object.keys(locations).length === 0) return undefined;
  return { locations, infos: [{ filename: dockerfile.name, language: "Dockerfile", data: Buffer.from(dockerfile.text).toString("base64") }] };
}
