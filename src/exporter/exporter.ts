// The exporter contract (BuildKit's exporter.Exporter): one output of a build, written from the
// result's root snapshot. `exporters.ts` chooses the exporter by output type; the remote cache will
// add cache exporters of its own beside these (cache/remote-cache.ts).
import type { CacheIndex } from "../cache/index.ts";
import type { ContentStore } from "../content/store.ts";
import type { ImageConfig, Platform } from "../oci/types.ts";
import type { RegistryClient } from "../registry/client.ts";
import type { Snapshotter } from "../snapshot/snapshotter.ts";
import type { VertexProgress } from "../util/progress.ts";
import type { Attestation } from "./attestations.ts";
import type { BuiltImage, InlineCacheEntries } from "./image.ts";
import type { OutputSpec } from "./image-options.ts";

/** What exporters read and write through; owned by the build's environment, not by the exporter. */
export type ExportServices = { snapshotter: Snapshotter; store: ContentStore; index: CacheIndex; registry: RegistryClient };

/** One platform's result: its root snapshot (null for an empty filesystem), image config and attestations. */
export type PlatformResult = {
  root: number | null;
  imageConfig: ImageConfig;
  platform: Platform;
  /** The platform's attestations (provenance, SBOM): image outputs attach them, local and tar write them as files. */
  attestations?: Attestation[];
};

/** The build's results and what their images are made of; the same for every output of one build. */
export type ExportInput = {
  /** One result per platform, in the order asked for (a single one unless --platform named several). */
  results: PlatformResult[];
  labels: Record<string, string>;
  sourceDateEpoch: number | undefined;
  buildTime: number;
  /** Writes bytes to standard output (for `dest=-`). */
  stdout: (chunk: Uint8Array) => Promise<void>;
  /** The process environment, for tools an exporter runs (`docker load`). */
  env: Record<string, string | undefined>;
  /** Cache entries image outputs carry in their config (`--cache-to type=inline`). */
  inlineCache?: InlineCacheEntries;
};

/** An image an output wrote, for --iidfile and --metadata-file. */
export type ExportedImage = { image: BuiltImage; names: string[] };

export type ExportContext = { services: ExportServices; input: ExportInput; progress: VertexProgress; signal: AbortSignal };

export interface Exporter<O extends OutputSpec> {
  /** The progress line, as BuildKit names it. */
  readonly title: string;
  /** Writes `out`; returns the image when the output is one. Safe to run once per output. */
  export(out: O, ctx: ExportContext): Promise<ExportedImage | undefined>;
}
