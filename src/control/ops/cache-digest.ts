// What goes into an op's cache key, and what does not: display names live in metadata already;
// proxy variables and cache-mount ids left at their default are dropped here, and inputs that are
// the build context are keyed by the checksum of exactly the files a step reads.
import { digestOf } from "../../llb/digest.ts";
import type { CopyAction, ExecOp, FileOp, Op } from "../../llb/ops.ts";
import { checksumSources } from "../../file/checksum.ts";
import type { SourceTree } from "../../file/source-tree.ts";
import type { CacheDep } from "../../solver/vertex.ts";
import type { BuildRef } from "../refs.ts";

/** Whether each input of a vertex is the local build context (its keys come from checksums). */
export type ContextInputs = readonly boolean[];

/** The context behind a ref as a tree to checksum; `done` is told the checksum it produced. */
export type ContextTrees = (ref: BuildRef) => { tree: SourceTree; done: (checksum: string) => void };

export function execCacheDigest(op: ExecOp): string {
  const { proxyEnv: _proxy, ...meta } = op.meta;
  const mounts = op.mounts.map((m) => (m.cache && m.cache.id === m.dest ? { ...m, cache: { ...m.cache, id: "" } } : m));
  return digestOf({ ...op, meta, mounts });
}

/** Exec inputs bound from the context are keyed by the checksum of the mounted subtree. */
export function execCacheDeps(op: ExecOp, contextInputs: ContextInputs, trees: ContextTrees): CacheDep<BuildRef>[] {
  return contextInputs.map((isContext, i) => {
    const mount = op.mounts.find((m) => m.input === i && m.type !== "cache");
    if (!isContext || !mount) return {};
    const selector = mount.selector ?? "/";
    return {
      contentDigest: async (ref, signal) => {
        const { tree, done } = trees(ref);
        const sum = await checksumSources(tree, selector, { followSymlinks: true, allowWildcard: false }, signal);
        done(sum);
        return sum;
      },
    };
  });
}

/** COPY inputs from the context are keyed by the checksum of what the copies select. */
export function fileCacheDeps(op: FileOp, contextInputs: ContextInputs, trees: ContextTrees): CacheDep<BuildRef>[] {
  return contextInputs.map((isContext, i) => {
    const copies = op.actions.filter((a): a is CopyAction => a.action === "copy" && a.srcInput === i);
    if (!isContext || copies.length === 0) return {};
    return {
      contentDigest: async (ref, signal) => {
        const { tree, done } = trees(ref);
        const sums: string[] = [];
        for (const c of copies) sums.push(await checksumSources(tree, c.src, c, signal));
        const sum = digestOf(sums);
        done(sum);
        return sum;
      },
    };
  });
}

export function isContextSource(op: Op | undefined): boolean {
  return op?.kind === "source" && op.identifier.startsWith("local://");
}
