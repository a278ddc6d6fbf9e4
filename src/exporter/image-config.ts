// The image config as BuildKit writes it: the frontend's config with rootfs.diff_ids in step with
// the exported layers, history entries (created, created_by, empty_layer, comment) matching them,
// and created times from SOURCE_DATE_EPOCH when it is set (else the build's time). Only the fields
// of BuildKit's typed config (docker-image-spec's DockerOCIImage) are kept, in the order Go writes
// them, so a base image's legacy fields (comment, docker_version, container_config, Hostname...)
// are not carried into the new image and the config's bytes, and so the image id, can match.
import type { ContainerConfig, Digest, HealthConfig, HistoryEntry, ImageConfig } from "../oci/types.ts";

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
  return typedImageConfig(config);
}

type Json = Record<string, unknown>;

/**
 * The config as BuildKit writes it: the frontend marshals its typed image (unknown fields dropped,
 * struct fields in declaration order, empty ones omitted, maps sorted by key, times as Go prints
 * them), and the exporter re-marshals the top level as a map (keys sorted). Extra top-level keys
 * kitbuild adds (its inline cache) are kept, in that sorted order.
 */
export function typedImageConfig(config: ImageConfig): ImageConfig {
  const c = config as ImageConfig & Json;
  const top: Json = {
    architecture: c.architecture,
    author: c.author || undefined,
    config: containerConfig(c.config ?? {}),
    created: c.created === undefined ? undefined : goTime(c.created),
    history: c.history && c.history.length > 0 ? c.history.map(historyEntry) : undefined,
    os: c.os,
    "os.features": nonEmpty(c["os.features"] as string[] | undefined),
    "os.version": c["os.version"] || undefined,
    rootfs: { type: c.rootfs?.type ?? "layers", diff_ids: c.rootfs?.diff_ids ?? [] },
    variant: c.variant || undefined,
  };
  for (const [k, v] of Object.entries(c)) if (k.startsWith("kitbuild.")) top[k] = v;
  return sortedDefined(top) as ImageConfig;
}

function containerConfig(cc: ContainerConfig): ContainerConfig {
  return defined({
    User: cc.User || undefined,
    ExposedPorts: sortedMap(cc.ExposedPorts),
    Env: nonEmpty(cc.Env),
    Entrypoint: nonEmpty(cc.Entrypoint),
    Cmd: nonEmpty(cc.Cmd),
    Volumes: sortedMap(cc.Volumes),
    WorkingDir: cc.WorkingDir || undefined,
    Labels: sortedMap(cc.Labels),
    StopSignal: cc.StopSignal || undefined,
    ArgsEscaped: cc.ArgsEscaped || undefined,
    Healthcheck: cc.Healthcheck ? healthcheck(cc.Healthcheck) : undefined,
    OnBuild: nonEmpty(cc.OnBuild),
    Shell: nonEmpty(cc.Shell),
  }) as ContainerConfig;
}

function healthcheck(h: HealthConfig): HealthConfig {
  return defined({
    Test: nonEmpty(h.Test),
    Interval: h.Interval || undefined,
    Timeout: h.Timeout || undefined,
    StartPeriod: h.StartPeriod || undefined,
    StartInterval: h.StartInterval || undefined,
    Retries: h.Retries || undefined,
  }) as HealthConfig;
}

function historyEntry(h: HistoryEntry): HistoryEntry {
  return defined({
    created: h.created === undefined ? undefined : goTime(h.created),
    created_by: h.created_by || undefined,
    author: h.author || undefined,
    comment: h.comment || undefined,
    empty_layer: h.empty_layer || undefined,
  }) as HistoryEntry;
}

/** An RFC 3339 time as Go's time.Time marshals it: fraction without trailing zeros (at most 9 digits), a zero offset as Z. */
export function goTime(s: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return s;
  const frac = (m[2] ?? "").slice(0, 9).replace(/0+$/, "");
  const zone = m[3] === "z" || m[3] === "+00:00" || m[3] === "-00:00" ? "Z" : (m[3] as string);
  return `${m[1]}${frac ? `.${frac}` : ""}${zone}`;
}

function nonEmpty<T>(a: T[] | null | undefined): T[] | undefined {
  return a && a.length > 0 ? a : undefined;
}

function sortedMap<T>(m: Record<string, T> | undefined): Record<string, T> | undefined {
  if (!m || Object.keys(m).length === 0) return undefined;
  return Object.fromEntries(Object.keys(m).sort(byBytes).map((k) => [k, m[k] as T]));
}

function defined(o: Json): Json {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function sortedDefined(o: Json): Json {
  return Object.fromEntries(Object.entries(defined(o)).sort(([a], [b]) => byBytes(a, b)));
}

/** Go sorts map keys by their UTF-8 bytes. */
function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
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
