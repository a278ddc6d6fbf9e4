// Solving small hand-built graphs with the real solver, op runners and snapshotters (what the
// Dockerfile frontend will emit for ADD <url>, ADD <git>, COPY --link), and looking at the result.
import { readConfig } from "../../src/control/config.ts";
import { type BuildEnvironment, openEnvironment } from "../../src/control/environment.ts";
import { type BuildRef, snapshotIdOf } from "../../src/control/refs.ts";
import { BuildSession } from "../../src/control/session.ts";
import { definitionSolver } from "../../src/control/solve-definition.ts";
import { marshal, node, output, type Output } from "../../src/llb/builder.ts";
import type { Definition, FileAction, Op } from "../../src/llb/ops.ts";
import { hostPlatform } from "../../src/oci/platform.ts";
import type { Mounted } from "../../src/snapshot/snapshotter.ts";
import { ExecServices } from "../../src/worker/session/exec-services.ts";
import type { ProgressEvent } from "../../src/util/progress.ts";

export type Solved = {
  root: BuildRef;
  events: ProgressEvent[];
  /** Names (metadata) of the vertices that ran rather than came from the cache. */
  ran: string[];
  /** The result's filesystem, read-only. */
  view(): Promise<Mounted>;
  /** The result's layers (snapshot ids, bottom first). */
  layers(): number[];
  diffNames(layer: number): Promise<string[]>;
  /** The environment the graph was solved in (open until the callback ends). */
  env: BuildEnvironment;
  definition: Definition;
};

/** Solves `root` against the cache in `kitRoot`; the environment is closed when the callback ends. */
export async function solveGraph<T>(root: Output, opts: { kitRoot: string; contextDir?: string; snapshotter?: string }, use: (s: Solved) => Promise<T>): Promise<T> {
  const signal = new AbortController().signal;
  const config = readConfig({ KITBUILD_ROOT: opts.kitRoot, KITBUILD_SNAPSHOTTER: opts.snapshotter });
  await using env = await openEnvironment({ config, env: {}, insecureRegistries: [] });
  await using exec = new ExecServices({ secrets: [], ssh: [], allow: [], env: {} });
  const session = new BuildSession(env, opts.contextDir ?? "/nonexistent", hostPlatform(), signal, exec);
  const events: ProgressEvent[] = [];
  const definition = marshal(root);
  const solver = definitionSolver(session, definition, { maxParallelism: 4, noCache: false, progress: (e) => events.push(e), signal });
  const result = await solver.solve();
  const id = () => {
    const s = snapshotIdOf(result);
    if (s === null) throw new Error("the result is empty (scratch)");
    return s;
  };
  const ran = [...new Set(events.flatMap((e) => (e.type === "vertex" && e.completed && !e.cached ? [definition.metadata[e.id]?.name ?? e.id] : [])))];
  return await use({
    root: result,
    env,
    definition,
    events,
    ran,
    view: () => env.snapshotter.mountReadonly(id()),
    layers: () => env.snapshotter.layers(id()),
    diffNames: async (layer) => {
      const { readTar } = await import("../../src/archive/tar-reader.ts");
      const names: string[] = [];
      for await (const { header } of readTar(env.snapshotter.diff(layer, { signal }).stream)) names.push(header.name);
      return names;
    },
  });
}

/** A vertex with a name, for `ran`. */
export function vertex(name: string, op: Op, inputs: Output[] = []): Output {
  return output(node(op, inputs, { name }));
}

export const source = (name: string, identifier: string, attrs: Record<string, string> = {}) => vertex(name, { kind: "source", identifier, attrs });

/** A file op with `actions` on `base` (undefined: scratch), reading copies from input `srcInput`. */
export function fileOp(name: string, base: Output | undefined, actions: FileAction[], from?: Output): Output {
  const inputs = [base, from].filter((x): x is Output => x !== undefined);
  return vertex(name, { kind: "file", base: base ? 0 : -1, actions }, inputs);
}

/** A copy action as the frontend writes it for ADD/COPY from input `srcInput`. */
export function copyAction(srcInput: number, src: string, dest: string, extra: Partial<Extract<FileAction, { action: "copy" }>> = {}): FileAction {
  return {
    action: "copy", srcInput, src, dest, followSymlinks: true, dirCopyContents: true, createDestPath: true, allowWildcard: true, allowEmptyWildcard: true, ...extra,
  };
}
