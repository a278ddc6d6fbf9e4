// OCI image documents as kitbuild reads and writes them (image-spec v1.1 field names).

export type Digest = `sha256:${string}`;

export type Platform = {
  os: string;
  architecture: string;
  variant?: string;
  "os.version"?: string;
};

export type Descriptor = {
  mediaType: string;
  digest: Digest;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
  /** The content itself, base64 (the OCI empty descriptor's "e30="). */
  data?: string;
  /** The artifact type of the manifest it points at (OCI 1.1). */
  artifactType?: string;
};

export type Manifest = {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
};

export type Index = {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
};

export type HealthConfig = {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
};

/** The `config` object of an image config: what a container started from the image gets. */
export type ContainerConfig = {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  OnBuild?: string[] | null;
  Shell?: string[];
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean;
};

export type HistoryEntry = {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
};

export type ImageConfig = {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  "os.version"?: string;
  config: ContainerConfig;
  rootfs: { type: "layers"; diff_ids: Digest[] };
  history?: HistoryEntry[];
  /** kitbuild's inline cache (`--cache-to type=inline`): the cache's metadata over the image's own layers. */
  "kitbuild.cache.v1"?: InlineCacheDoc;
};

/** An inline cache as the image config holds it: the image's layers and, per cache key, output chains (indexes into them). */
export type InlineCacheDoc = {
  kitbuildCache: 1;
  layers: Array<{ digest: Digest; size: number; mediaType: string; diffId: Digest }>;
  entries: Record<string, { name: string; outputs: number[][] }>;
};
