// The solver: walks the graph from its root, computes cache keys, serves hits from the result
// store, runs misses in parallel (bounded), shares identical work, and cancels everything at the
// first failure. It knows nothing of containers: ops are behind OpRunner.
import type { Definition, Edge } from "../llb/ops.ts";
import { canceledError } from "../util/abort.ts";
import { KitError, toKitError } from "../util/errors.ts";
import { Limiter } from "../util/limiter.ts";
import { type ProgressSink, vertexProgress } from "../util/progress.ts";
import { type KeyDep, cacheKey } from "./cachekey.ts";
import type { CacheMap, ExecContext, KeyParts, OpRunner, ResultStore, SolverResult, SolverVertex } from "./vertex.ts";

export type SolveOptions<R extends SolverResult> = {
  definition: Definition;
  runnerFor: (v: SolverVertex) => OpRunner<R>;
  store: ResultStore<R>;
  maxParallelism: number;
  /** Skip cache lookups for every vertex (--no-cache); per-vertex ignoreCache is in metadata. */
  noCache: boolean;
  /** Report why each step missed the cache (--debug-cache). */
  explainMisses?: boolean;
  /** Only look results up (`kitbuild debug`): a cacheable step not in the cache fails with E_NOT_CACHED instead of running. */
  lookupOnly?: boolean;
  progress: ProgressSink;
  signal: AbortSignal;
};

type State<R extends SolverResult> = {
  sv: SolverVertex;
  runner: OpRunner<R>;
  cacheMap?: Promise<CacheMap<R>>;
  key?: Promise<string>;
  parts?: KeyParts;
  result?: Promise<R[]>;
  started?: number;
  done: boolean;
};

export class Solver<R extends SolverResult> {
  private readonly states = new Map<string, State<R>>();
  private readonly held: R[] = [];
  private readonly limiter: Limiter;
  private readonly abort = new AbortController();
  private firstError: KitError | undefined;
  /** The vertex whose failure ended the solve, for pointing the error at its Dockerfile line. */
  failedVertex: string | undefined;

  constructor(private readonly opts: SolveOptions<R>) {
    this.limiter = new Limiter(opts.maxParallelism);
    for (const { digest, vertex } of opts.definition.vertices) {
      const sv: SolverVertex = { digest, vertex, meta: opts.definition.metadata[digest] ?? {} };
      this.states.set(digest, { sv, runner: opts.runnerFor(sv), done: false });
    }
  }

  /** Solves the root edge. The caller owns (and must release) the returned result. */
  async solve(): Promise<R> {
    const root = this.opts.definition.root;
    if (!root) throw new KitError("E_INTERNAL", "the build graph is empty");
    return (await this.solveAll([root]))[0] as R;
  }

  /**
   * Solves several edges of the definition at once (one per platform of a multi-platform build),
   * so that the vertices they share run once. Two edges may give the same result object: the
   * caller releases each distinct result once.
   */
  async solveAll(roots: readonly Edge[]): Promise<R[]> {
    const onAbort = () => this.abort.abort(canceledError(this.opts.signal));
    this.opts.signal.addEventListener("abort", onAbort, { once: true });
    if (this.opts.signal.aborted) onAbort();
    try {
      const results = await Promise.all(roots.map(async (root) => {
        const outputs = await this.resultOf(root.digest);
        const result = outputs[root.output];
        if (!result) throw new KitError("E_INTERNAL", `vertex has no output ${root.output}`);
        return result;
      }));
      this.markUnusedCached();
      return results;
    } catch (e) {
      // The other steps are being canceled: wait for them, so that their CANCELED is reported before
      // the solve's error (as BuildKit's progress) and what they still produce is released below.
      await Promise.allSettled([...this.states.values()].map((s) => s.result));
      throw this.firstError ?? toKitError(e);
    } finally {
      this.opts.signal.removeEventListener("abort", onAbort);
      await this.releaseHeld(roots);
    }
  }

  private state(digest: string): State<R> {
    const s = this.states.get(digest);
    if (!s) throw new KitError("E_INTERNAL", `vertex ${digest} is not in the definition`);
    return s;
  }

  /** The op's context; its first progress report marks the vertex as started. */
  private ctx(s: State<R>): ExecContext {
    const inner = vertexProgress(this.opts.progress, s.sv.digest);
    const started = <A extends unknown[]>(fn: (...a: A) => void) => (...a: A) => {
      this.emitStart(s);
      fn(...a);
    };
    const progress = {
      vertex: inner.vertex,
      log: started(inner.log),
      status: started(inner.status),
      statusDone: started(inner.statusDone),
      warn: started(inner.warn),
      note: started(inner.note),
    };
    return { progress, signal: this.abort.signal, othersPending: (matches) => this.othersPending(s, matches) };
  }

  private othersPending(self: State<R>, matches: (v: SolverVertex) => boolean): boolean {
    for (const s of this.states.values()) if (s !== self && !s.done && s.started === undefined && matches(s.sv)) return true;
    return false;
  }

  private name(s: State<R>): string {
    return s.sv.meta.name ?? `${s.sv.vertex.op.kind} ${s.sv.digest.slice(7, 19)}`;
  }

  private emitStart(s: State<R>): void {
    if (s.started !== undefined) return;
    s.started = Date.now();
    const inputs = s.sv.vertex.inputs.map((i) => i.digest);
    this.opts.progress({ type: "vertex", id: s.sv.digest, name: this.name(s), inputs, started: s.started });
  }

  private emitDone(s: State<R>, extra: { cached?: boolean; error?: string; canceled?: boolean } = {}): void {
    if (s.done) return;
    s.done = true;
    const started = s.started ?? Date.now();
    const inputs = s.sv.vertex.inputs.map((i) => i.digest);
    this.opts.progress({ type: "vertex", id: s.sv.digest, name: this.name(s), inputs, started, completed: Date.now(), ...extra });
  }

  private cacheMapOf(s: State<R>): Promise<CacheMap<R>> {
    s.cacheMap ??= s.runner.cacheMap(this.ctx(s));
    return s.cacheMap;
  }

  private keyOf(digest: string): Promise<string> {
    const s = this.state(digest);
    s.key ??= (async () => {
      const cm = await this.cacheMapOf(s);
      const deps = await Promise.all(
        s.sv.vertex.inputs.map(async (edge, i): Promise<KeyDep> => {
          const contentDigest = cm.deps[i]?.contentDigest;
          if (!contentDigest) return { kind: "key", key: await this.keyOf(edge.digest), output: edge.output };
          const input = await this.inputResult(edge);
          return { kind: "content", checksum: await contentDigest(input, this.abort.signal) };
        }),
      );
      s.parts = { op: cm.digest, deps };
      return cacheKey(cm.digest, deps);
    })();
    return s.key;
  }

  private async inputResult(edge: Edge): Promise<R> {
    const outputs = await this.resultOf(edge.digest);
    const r = outputs[edge.output];
    if (!r) throw new KitError("E_INTERNAL", `vertex ${edge.digest} has no output ${edge.output}`);
    return r;
  }

  private resultOf(digest: string): Promise<R[]> {
    const s = this.state(digest);
    s.result ??= this.compute(s).catch((e) => {
      throw this.fail(s, e);
    });
    return s.result;
  }

  private async compute(s: State<R>): Promise<R[]> {
    const key = await this.keyOf(s.sv.digest);
    const cm = await this.cacheMapOf(s);
    const signal = this.abort.signal;
    const useCache = cm.cacheable && !this.opts.noCache && !s.sv.meta.ignoreCache;
    if (useCache) {
      const hit = await this.opts.store.load(key, s.sv, signal, this.ctx(s).progress);
      if (hit) {
        this.held.push(...hit);
        this.markAncestorsCached(s);
        this.emitDone(s, { cached: true });
        return hit;
      }
    }
    if (this.opts.lookupOnly && cm.cacheable) throw new KitError("E_NOT_CACHED", `${this.name(s)} is not in the cache`);
    s.runner.willExec?.();
    const inputs = await Promise.all(s.sv.vertex.inputs.map((edge) => this.inputResult(edge)));
    if (useCache && this.opts.explainMisses && this.opts.store.explainMiss && s.parts) {
      const progress = this.ctx(s).progress;
      for (const reason of await this.opts.store.explainMiss(key, s.sv, s.parts)) progress.note(`cache miss: ${reason}`);
    }
    // Claimed only once the inputs are ready, so a claim holder never waits on anything else.
    const claim = useCache && this.opts.store.claim ? await this.opts.store.claim(key, s.sv, this.ctx(s).progress, signal) : undefined;
    if (claim?.kind === "done") {
      this.held.push(...claim.results);
      this.emitDone(s, { cached: true });
      return claim.results;
    }
    try {
      const outputs = await this.limiter.run(async () => {
        if (signal.aborted) throw canceledError(signal);
        this.emitStart(s);
        return s.runner.exec(inputs, this.ctx(s));
      }, signal);
      this.held.push(...outputs);
      if (cm.cacheable && s.parts) await this.opts.store.save(key, s.sv, outputs, signal, s.parts);
      this.emitDone(s);
      return outputs;
    } finally {
      claim?.release();
    }
  }

  /** Records the first failure, cancels the rest, and reports this vertex as failed or canceled. */
  private fail(s: State<R>, e: unknown): KitError {
    const err = toKitError(e);
    if (!this.firstError) {
      this.firstError = err;
      if (err.code !== "E_CANCELED") this.failedVertex = s.sv.digest;
      this.abort.abort(err);
    }
    if (s.started !== undefined && !s.done) {
      const own = this.failedVertex === s.sv.digest;
      this.emitDone(s, own ? { error: err.message } : { canceled: true, error: "canceled" });
    }
    return err;
  }

  /** A cache hit makes its inputs unnecessary: report them (inputs first) as cached too. */
  private markAncestorsCached(s: State<R>): void {
    for (const edge of s.sv.vertex.inputs) {
      const input = this.states.get(edge.digest);
      if (!input || input.done || input.result) continue;
      this.markAncestorsCached(input);
      this.emitStart(input);
      this.emitDone(input, { cached: true });
    }
  }

  /** Vertices whose results were never needed because something after them was cached. */
  private markUnusedCached(): void {
    for (const s of this.states.values()) {
      if (s.done || s.key === undefined) continue;
      this.emitStart(s);
      this.emitDone(s, { cached: true });
    }
  }

  private async releaseHeld(roots: readonly Edge[]): Promise<void> {
    const keep = new Set<R>();
    for (const root of roots) {
      const rootOutputs = this.states.get(root.digest)?.result;
      const kept = rootOutputs && !this.firstError ? (await rootOutputs.catch(() => []))[root.output] : undefined;
      if (kept) keep.add(kept);
    }
    await Promise.all(this.held.filter((r) => !keep.has(r)).map((r) => r.release().catch(() => {})));
  }
}
