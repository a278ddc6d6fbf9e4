// The ops of kitbuild's build graph (BuildKit's LLB, as plain typed data). A vertex is an op plus
// its inputs; its digest is the sha256 of the canonical encoding of both (see encode.ts). This file
// is the contract between the frontend (which writes ops) and the op runners (which execute them):
// a runner that does not support a field yet refuses it with a clear error rather than ignoring it.
import type { Platform } from "../oci/types.ts";

export type SourceOp = {
  kind: "source";
  /**
   * "docker-image://REF" (pinned to a digest by the frontend), "local://context",
   * "https://…" / "http://…" (ADD URL), "git://…" / "git+https://…" (ADD git repository: "git+"
   * then the remote as `git clone` takes it, e.g. "git+ssh://host/r.git", "git+git@host:r.git";
   * the git protocol's "git://…" as it is).
   */
  identifier: string;
  /**
   * local: "excludepatterns" (JSON list), "followpaths" (JSON list of the context paths the build
   * reads, relative; absent when it reads everything). http: "checksum" (sha256:…), "filename",
   * "chmod". git: "keepgitdir" ("true"), "ref", "subdir", "checksum" (the commit it must resolve to).
   */
  attrs: Record<string, string>;
  platform?: Platform;
};

export type ExecMeta = {
  args: string[];
  env: string[];
  cwd: string;
  /** USER as written ("name", "uid", "name:group", "uid:gid"); "" is root. */
  user: string;
  hostname?: string;
  /**
   * Proxy variables (HTTP_PROXY, …) passed to the step's environment but kept out of the cache key
   * unless the Dockerfile declares them with ARG (then they are in `env`).
   */
  proxyEnv?: Record<string, string>;
  /** Entries added to /etc/hosts (--add-host), in the cache key as BuildKit's ExtraHosts. */
  extraHosts?: Array<{ host: string; ip: string }>;
  /** --ulimit: the step's resource limits (BuildKit's Meta.Ulimit, in the cache key); -1 is unlimited. */
  ulimits?: Array<{ name: string; soft: number; hard: number }>;
  /** --shm-size: bytes of the step's /dev/shm (BuildKit's Meta.ShmSize); unset: 64 MiB. */
  shmSize?: number;
};

export type CacheSharing = "shared" | "private" | "locked";

export type ExecMount = {
  type: "bind" | "cache" | "tmpfs" | "secret" | "ssh";
  dest: string;
  /** Index into the vertex's inputs, or -1 for an empty (scratch) source. */
  input: number;
  /** The output index this mount's final contents are exported as, or -1 when discarded. */
  output: number;
  readonly: boolean;
  /** A path inside the input to mount instead of its root (bind `source=`, cache `source=`). */
  selector?: string;
  /** cache: the cache's id (default: the target path) and how concurrent steps share it. */
  cache?: { id: string; sharing: CacheSharing };
  /** tmpfs: size limit in bytes (0: the kernel default). */
  tmpfs?: { size: number };
  /** secret and ssh: which one, its owner and mode, and whether a missing one is fine. */
  secret?: { id: string; uid: number; gid: number; mode: number; optional: boolean };
  ssh?: { id: string; uid: number; gid: number; mode: number; optional: boolean };
};

export type ExecOp = {
  kind: "exec";
  meta: ExecMeta;
  /** mounts[0] is the root filesystem ("/"). */
  mounts: ExecMount[];
  /** Secrets exposed as environment variables (RUN --mount=type=secret,env=NAME). */
  secretEnv?: Array<{ id: string; name: string; optional: boolean }>;
  /** sandbox (BuildKit's unset mode): a namespace of the step's own with outbound access. */
  network: "sandbox" | "host" | "none";
  security: "sandbox" | "insecure";
  /** The stage's platform (BuildKit's Op.Platform): the executor emulates it when it is not the host's; part of the digest. */
  platform?: Platform;
};

export type ChownOpt = { user: string | number; group?: string | number };

export type MkdirAction = {
  action: "mkdir";
  path: string;
  mode: number;
  makeParents: boolean;
  owner?: ChownOpt;
  /** Created/modified time in seconds since the epoch (SOURCE_DATE_EPOCH). */
  timestamp?: number;
};

/** Writes a file (COPY/ADD heredocs, RUN's shebang heredoc scripts). */
export type MkfileAction = {
  action: "mkfile";
  path: string;
  mode: number;
  /** The content, as UTF-8 text. */
  data: string;
  owner?: ChownOpt;
  timestamp?: number;
};

export type CopyAction = {
  action: "copy";
  /** Index into the vertex's inputs where the sources are read from. */
  srcInput: number;
  src: string;
  dest: string;
  owner?: ChownOpt;
  /** Octal permission bits, or a symbolic mode ("u+x,go-w") as COPY --chmod allows. */
  mode?: number | string;
  followSymlinks: boolean;
  dirCopyContents: boolean;
  createDestPath: boolean;
  allowWildcard: boolean;
  allowEmptyWildcard: boolean;
  /** ADD: a local tar archive (any compression) is unpacked at dest instead of copied. */
  attemptUnpack?: boolean;
  /** Only paths matching one of these (relative to src) are copied (COPY --parents). */
  includePatterns?: string[];
  /** Paths matching these (relative to src) are left out (COPY --exclude). */
  excludePatterns?: string[];
  /** Paths (absolute in the source) that must exist, else the copy fails (COPY --parents without wildcards). */
  requiredPaths?: string[];
  /** A dest path of another type than the source is replaced instead of being an error. */
  alwaysReplaceExistingDestPaths?: boolean;
  timestamp?: number;
};

export type RmAction = { action: "rm"; path: string; allowNotFound: boolean; allowWildcard: boolean };

export type FileAction = MkdirAction | MkfileAction | CopyAction | RmAction;

export type FileOp = {
  kind: "file";
  /** Index into the vertex's inputs of the filesystem the actions change, or -1 for scratch. */
  base: number;
  actions: FileAction[];
};

/**
 * The inputs' filesystems stacked, later ones over earlier ones, as layers (COPY --link: the copied
 * files are a layer of their own that does not depend on what lies below).
 */
export type MergeOp = { kind: "merge" };

export type Op = SourceOp | ExecOp | FileOp | MergeOp;

/** An edge: output `output` of the vertex with digest `digest`. */
export type Edge = { digest: string; output: number };

export type Vertex = { op: Op; inputs: Edge[] };

export type SourceRange = { start: number; end: number };

/** What describes a vertex without changing its result; never part of its digest. */
export type OpMetadata = {
  /** The name shown in progress output, e.g. "[2/4] COPY . .". */
  name?: string;
  /** Skip the cache lookup for this vertex (--no-cache, --no-cache-filter). */
  ignoreCache?: boolean;
  /** Where in the Dockerfile this vertex comes from. */
  location?: { file: string; ranges: SourceRange[] };
};

/** A whole build graph: vertices in topological order, their metadata and the root edge. */
export type Definition = {
  vertices: Array<{ digest: string; vertex: Vertex }>;
  metadata: Record<string, OpMetadata>;
  root: Edge | undefined;
};
