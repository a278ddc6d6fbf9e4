// Helpers for the conversion tests: a fake image resolver (no registry needed) with configurable
// image configs, and accessors for the vertices of a converted graph.
import { type ConvertOptions, type ConvertResult, convertDockerfile } from "../../src/frontend/dockerfile/convert/convert.ts";
import type { Definition, ExecOp, FileOp, Op, OpMetadata, SourceOp, Vertex } from "../../src/llb/ops.ts";
import type { ContainerConfig, ImageConfig, Platform } from "../../src/oci/types.ts";
import { KitError } from "../../src/util/errors.ts";

export const DIGEST = `sha256:${"a".repeat(64)}`;
export const LAYER: `sha256:${string}` = `sha256:${"b".repeat(64)}`;

/** Image configs the fake registry knows, by the name used in FROM (others get a default config). */
export type FakeImages = Record<string, Partial<ContainerConfig> & { empty?: boolean; os?: string }>;

export type Resolved = { ref: string; platform: Platform };

export function fakeResolver(images: FakeImages = {}, log: Resolved[] = []): ConvertOptions["resolveImage"] {
  return async (ref, platform) => {
    log.push({ ref, platform });
    if (ref.includes("invalid")) throw new KitError("E_REGISTRY_NOT_FOUND", `"${ref}" not found`);
    const { empty, os, ...config } = images[ref] ?? {};
    const image: ImageConfig = {
      architecture: platform.architecture,
      os: os ?? platform.os,
      created: "2024-01-01T00:00:00Z",
      config: { Env: ["PATH=/usr/bin:/bin"], Cmd: ["sh"], ...config },
      rootfs: { type: "layers", diff_ids: empty ? [] : [LAYER] },
      history: [{ created_by: `base ${ref}`, ...(empty ? { empty_layer: true } : {}) }],
    };
    return { ref: pinned(ref), config: image };
  };
}

export function pinned(ref: string): string {
  return ref.includes("/") ? `${ref}:latest@${DIGEST}` : `docker.io/library/${ref}:latest@${DIGEST}`;
}

export function options(source: string, extra: Partial<ConvertOptions> = {}, images: FakeImages = {}): ConvertOptions {
  return {
    source,
    filename: "Dockerfile",
    buildArgs: {},
    target: undefined,
    platform: { os: "linux", architecture: "amd64" },
    buildPlatform: { os: "linux", architecture: "amd64" },
    excludePatterns: [],
    noCacheStages: [],
    resolveImage: fakeResolver(images),
    ...extra,
  };
}

export function convert(source: string, extra: Partial<ConvertOptions> = {}, images: FakeImages = {}): Promise<ConvertResult> {
  return convertDockerfile(options(source, extra, images));
}

/** The error a conversion fails with (the test fails if it succeeds). */
export async function convertError(source: string, extra: Partial<ConvertOptions> = {}, images: FakeImages = {}): Promise<KitError> {
  const result = await convert(source, extra, images).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(result instanceof KitError)) throw new Error(`expected a KitError, got ${String(result)}`);
  return result;
}

export type Found = { digest: string; vertex: Vertex; meta: OpMetadata };

export function vertices(def: Definition): Found[] {
  return def.vertices.map(({ digest, vertex }) => ({ digest, vertex, meta: def.metadata[digest] ?? {} }));
}

export function names(def: Definition): Array<string | undefined> {
  return vertices(def).map((v) => v.meta.name);
}

/** The vertex whose name is exactly `name`. */
export function byName(def: Definition, name: string): Found {
  const found = vertices(def).find((v) => v.meta.name === name);
  if (!found) throw new Error(`no vertex named ${JSON.stringify(name)}; have ${JSON.stringify(names(def))}`);
  return found;
}

export function opsOf<K extends Op["kind"]>(def: Definition, kind: K): Array<Extract<Op, { kind: K }>> {
  return def.vertices.map((v) => v.vertex.op).filter((o): o is Extract<Op, { kind: K }> => o.kind === kind);
}

export function execs(def: Definition): ExecOp[] {
  return opsOf(def, "exec");
}

export function files(def: Definition): FileOp[] {
  return opsOf(def, "file");
}

export function sources(def: Definition): SourceOp[] {
  return opsOf(def, "source");
}

/** The op of the vertex an input edge points at. */
export function inputOp(def: Definition, v: Found, index: number): Found {
  const edge = v.vertex.inputs[index];
  const found = vertices(def).find((x) => x.digest === edge?.digest);
  if (!found) throw new Error(`input ${index} not found`);
  return found;
}

/** The root vertex of the graph. */
export function root(def: Definition): Found {
  const found = vertices(def).find((v) => v.digest === def.root?.digest);
  if (!found) throw new Error("no root");
  return found;
}

export function history(result: ConvertResult): string[] {
  return (result.image.history ?? []).map((h) => `${h.created_by}${h.empty_layer ? " (empty)" : ""}`);
}
