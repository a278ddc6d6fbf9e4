// The solver's contract with the ops it runs. The solver knows vertices, inputs and cache keys; what
// an op does (pull, run a container, copy files) is behind OpRunner, supplied by the caller.
import type { OpMetadata, Vertex } from "../llb/ops.ts";
import type { VertexProgress } from "../util/progress.ts";
import type { KeyDep } from "./cachekey.ts";

/** What a cache key was made of: the op's cache digest and each input's key or checksum. */
export type KeyParts = { op: string; deps: KeyDep[] };

/** A result the solver can hold and hand on; `release` is called once nothing needs it any more. */
export interface SolverResult {
  release(): Promise<void>;
}

export type CacheDep<R> = {
  /**
   * When set, this input contributes the checksum of the selected content of its result instead of
   * the input's own cache key (COPY from the context: only the files it reads matter).
   */
  contentDigest?: (input: R, signal: AbortSignal) => Promise<string>;
};

export type CacheMap<R> = {
  /** The op's digest without what does not change its result. */
  digest: string;
  deps: CacheDep<R>[];
  /** False for ops that always run and are never stored (the local context). */
  cacheable: boolean;
};

export type ExecContext = {
  progress: VertexProgress;
  signal: AbortSignal;
  /** Whether another vertex that `matches` has neither started nor finished, so may still run. */
  othersPending(matches: (v: SolverVertex) => boolean): boolean;
};

export interface OpRunner<R extends SolverResult> {
  cacheMap(ctx: ExecContext): Promise<CacheMap<R>>;
  /** Runs the op on its inputs' results; returns one result per output. */
  exec(inputs: R[], ctx: ExecContext): Promise<R[]>;
  /**
   * Told, once the cache has missed, that exec() follows when the inputs are ready: the runner may
   * get ready meanwhile (exec() may still not come, if the build fails first).
   */
  willExec?(): void;
}

export type SolverVertex = { digest: string; vertex: Vertex; meta: OpMetadata };

/**
 * A claim on a key about to be built: either this solver builds it (and releases the claim once
 * its result is saved), or someone else finished it while we waited.
 */
export type Claim<R> = { kind: "mine"; release(): void } | { kind: "done"; results: R[] };

/** Where results live between builds, by cache key. */
export interface ResultStore<R extends SolverResult> {
  /** `progress` is the vertex's: a store that fetches a result from elsewhere reports it there. */
  load(key: string, v: SolverVertex, signal: AbortSignal, progress?: VertexProgress): Promise<R[] | undefined>;
  save(key: string, v: SolverVertex, results: R[], signal: AbortSignal, parts: KeyParts): Promise<void>;
  /** Optional: why `key` missed, compared with what this step was built from before. */
  explainMiss?(key: string, v: SolverVertex, parts: KeyParts): Promise<string[]>;
  /** Optional: shares work in progress with other solvers (other processes) on the same store. */
  claim?(key: string, v: SolverVertex, progress: VertexProgress, signal: AbortSignal): Promise<Claim<R>>;
}
