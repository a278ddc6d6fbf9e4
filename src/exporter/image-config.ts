// The image config as BuildKit writes it: the frontend's config with rootfs.diff_ids in step with
// the exported layers, history entries (created, created_by, empty_layer, comment) matching them,
// and created times from SOURCE_DATE_EPOCH when it is set (else the build's time).
import type { Digest, HistoryEntry, ImageConfig } from "../oci/types.ts";

export type ConfigInputs = {
  /** The config the frontend computed for the target stage. */
  config: ImageConfig;
  /** DiffIDs of every layer, bottom first (base image layers included). */
  diffIds: Digest[];
  /** How many of those layers come from the base image (their history is the base's). */
  baseLayers: number;
  /** Seconds since the epoch: SOURCE_DATE_EPOCH, or the build's start. */
  created: number;
  /** Whether `created` is SOURCE_DATE_EPOCH (then it also caps the base image's times). */
  fromEpoch: boolean;
  /** Extra labels (`--label`). */
  labels: Record<string, string>;
};

const EXPORTER_COMMENT = "buildkit.exporter.image.v0";

export function finalizeImageConfig(inputs: ConfigInputs): ImageConfig {
  const iso = new Date(inputs.created * 1000).toISOString().replace(/\.000Z$/, "Z");
  const config: ImageConfig = structuredClone(inputs.config);
  config.rootfs = { type: "layers", diff_ids: [...inputs.diffIds] };
  if (Object.keys(inputs.labels).length > 0) config.config.Labels = { ...config.config.Labels, ...inputs.labels };
  config.history = normalizeHistory(config.history ?? [], inputs.diffIds.length, iso, inputs.fromEpoch);
  config.created = iso;
  return config;
}

/**
 * Makes history and layers agree: entries claiming layers beyond the real count become empty,
 * missing entries are added, and entries without a time get the build's (BuildKit's rules).
 */
function normalizeHistory(history: HistoryEntry[], layers: number, created: string, fromEpoch: boolean): HistoryEntry[] {
  let withLayer = 0;
  const out = history.map((h) => {
    const entry: HistoryEntry = { ...h };
    if (!entry.empty_layer) {
      if (withLayer >= layers) entry.empty_layer = true;
      else withLayer++;
    }
    if (entry.created === undefined) entry.created = created;
    else if (fromEpoch && entry.created > created) entry.created = created;
    return entry;
  });
  for (; withLayer < layers; withLayer++) out.push({ created, created_by: "", comment: EXPORTER_COMMENT });
  return out;
}
