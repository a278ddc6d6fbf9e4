// The ops of kitbuild's build graph (BuildKit's LLB, as plain typed data). A vertex is an op plus
// its inputs; its digest is the sha256 of the canonical encoding of both (see encode.ts).
import type { Platform } from "../oci/types.ts";

export type SourceOp = {
  kind: "source";
  /** "docker-image://REF", "local://NAME", "git://…", "https://…". */
  identifier: string;
  attrs: Record<string, string>;
  platform?: Platform;
};

export type ExecMeta = {
  args: string[];
  env: string[];
  cwd: string;
  user: string;
  hostname?: string;
};

export type ExecMount = {
  type: "bind" | "cache" | "tmpfs" | "secret" | "ssh";
  dest: string;
  /** Index into the vertex's inputs, or -1 for an empty (scratch) source. */
  input: number;
  /** The output index this mount's final contents are exported as, or -1 when discarded. */
  output: number;
  readonly: boolean;
  /** A path inside the input to mount instead of its root. */
  selector?: string;
};

export type ExecOp = {
  kind: "exec";
  meta: ExecMeta;
  /** mounts[0] is the root filesystem ("/"). */
  mounts: ExecMount[];
  network: "host" | "none";
  security: "sandbox" | "insecure";
};

export type ChownOpt = { user: string | number; group?: string | number };

export type MkdirAction = {
  action: "mkdir";
  path: string;
  mode: number;
  makeParents: boolean;
  owner?: ChownOpt;
};

export type CopyAction = {
  action: "copy";
  /** Index into the vertex's inputs where the sources are read from. */
  srcInput: number;
  src: string;
  dest: string;
  owner?: ChownOpt;
  mode?: number;
  followSymlinks: boolean;
  dirCopyContents: boolean;
  createDestPath: boolean;
  allowWildcard: boolean;
  allowEmptyWildcard: boolean;
};

export type RmAction = { action: "rm"; path: string; allowNotFound: boolean; allowWildcard: boolean };

export type FileAction = MkdirAction | CopyAction | RmAction;

export type FileOp = {
  kind: "file";
  /** Index into the vertex's inputs of the filesystem the actions change, or -1 for scratch. */
  base: number;
  actions: FileAction[];
};

export type Op = SourceOp | ExecOp | FileOp;

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
