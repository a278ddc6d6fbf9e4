// A small builder for build graphs: nodes reference their inputs directly, and marshal() turns the
// graph reachable from one output into a Definition, merging identical vertices.
import { digestOf } from "./digest.ts";
import type { Definition, Edge, Op, OpMetadata, Vertex } from "./ops.ts";

export type Node = { op: Op; inputs: Output[]; meta: OpMetadata };

/** One output of a node; an exec node has one output per mount that exports a result. */
export type Output = { node: Node; index: number };

export function node(op: Op, inputs: Output[], meta: OpMetadata = {}): Node {
  return { op, inputs, meta };
}

export function output(n: Node, index = 0): Output {
  return { node: n, index };
}

/** Collects everything reachable from `root` in topological order; identical vertices become one. */
export function marshal(root: Output | undefined): Definition {
  const def: Definition = { vertices: [], metadata: {}, root: undefined };
  const seen = new Map<Node, string>();
  const visit = (n: Node): string => {
    const known = seen.get(n);
    if (known) return known;
    const inputs: Edge[] = n.inputs.map((i) => ({ digest: visit(i.node), output: i.index }));
    const vertex: Vertex = { op: n.op, inputs };
    const digest = digestOf(vertex);
    seen.set(n, digest);
    if (!def.metadata[digest]) {
      def.vertices.push({ digest, vertex });
      def.metadata[digest] = { ...n.meta };
    } else {
      mergeMetadata(def.metadata[digest], n.meta);
    }
    return digest;
  };
  if (root) def.root = { digest: visit(root.node), output: root.index };
  return def;
}

function mergeMetadata(into: OpMetadata, from: OpMetadata): void {
  if (from.ignoreCache) into.ignoreCache = true;
  into.name ??= from.name;
  into.location ??= from.location;
}
