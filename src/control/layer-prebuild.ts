// The image's own layers made while the build still runs: a step on the final image's chain of
// layers (each RUN's root filesystem, each COPY's base, down from the image's root) is final once
// committed, so its layer is diffed and compressed while later steps run, on the core they leave
// free, instead of after the whole build. The export then finds it made (or being made).
import { type LayerVariant, prebuildLayer } from "../exporter/layers.ts";
import { type ImageOutput, isImageOutput, type OutputSpec } from "../exporter/image-options.ts";
import type { Definition, Edge } from "../llb/ops.ts";
import type { SolverVertex } from "../solver/vertex.ts";
import type { BuildEnvironment } from "./environment.ts";
import type { BuildRef } from "./refs.ts";

export class LayerPrebuild implements AsyncDisposable {
  private readonly started: Array<Promise<void>> = [];
  private readonly stop = new AbortController();
  private readonly signal: AbortSignal;

  /** `wanted`: the output of each vertex whose result is one of the image's own layers. */
  private constructor(private readonly env: BuildEnvironment, private readonly variant: LayerVariant, private readonly wanted: Map<string, number>, signal: AbortSignal) {
    this.signal = AbortSignal.any([signal, this.stop.signal]);
  }

  /** For a build whose first image output is `outputs`' first; undefined when no output is an image. */
  static forBuild(env: BuildEnvironment, definition: Definition, roots: readonly Edge[], outputs: readonly OutputSpec[], epoch: number | undefined, signal: AbortSignal): LayerPrebuild | undefined {
    const image = outputs.find(isImageOutput);
    if (!image) return undefined;
    return new LayerPrebuild(env, variantOf(image, epoch), layerVertices(definition, roots), signal);
  }

  /** Told of every step's result as the solver has it (built, cached or imported). */
  onResult(v: SolverVertex, results: readonly BuildRef[]): void {
    const output = this.wanted.get(v.digest);
    const ref = output === undefined ? undefined : results[output];
    if (ref?.kind !== "snapshot" || this.signal.aborted) return;
    this.started.push(prebuildLayer(this.env, ref.id, this.variant, this.signal));
  }

  /** After the export: it has waited for every layer it used; any other is stopped. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.stop.abort();
    await Promise.all(this.started);
  }
}

/** The layer settings buildImage will ask for (exporter/image.ts). */
function variantOf(out: ImageOutput, epoch: number | undefined): LayerVariant {
  return { compression: out.compression, level: out.compressionLevel, sourceDateEpoch: out.rewriteTimestamp ? epoch : undefined };
}

/**
 * The vertices whose results are layers of the images at `roots`: from each root down its chain of
 * root filesystems (a RUN's "/" mount, a file op's base), to the first source or merge.
 */
export function layerVertices(definition: Definition, roots: readonly Edge[]): Map<string, number> {
  const byDigest = new Map(definition.vertices.map((v) => [v.digest, v.vertex]));
  const out = new Map<string, number>();
  for (const root of roots) {
    let edge: Edge | undefined = root;
    while (edge && !out.has(edge.digest)) {
      const vertex = byDigest.get(edge.digest);
      const op = vertex?.op;
      if (op?.kind === "exec" && op.mounts[0]?.output === edge.output) {
        out.set(edge.digest, edge.output);
        edge = vertex?.inputs[op.mounts[0].input];
      } else if (op?.kind === "file" && edge.output === 0) {
        out.set(edge.digest, 0);
        edge = op.base >= 0 ? vertex?.inputs[op.base] : undefined;
      } else edge = undefined;
    }
  }
  return out;
}
