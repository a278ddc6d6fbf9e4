// How `kitbuild debug` prints a build graph: stable JSON (vertices in dependency order, keys
// sorted, each with its op, inputs, name and Dockerfile location) or a graphviz digraph.
import { canonicalize } from "../llb/encode.ts";
import type { Definition, Edge, Op } from "../llb/ops.ts";

/** `roots`: with several platforms, each platform's root edge (the definition holds every platform's graph). */
export function definitionJson(def: Definition, roots?: ReadonlyArray<{ platform: string; root: Edge }>): string {
  const vertices = def.vertices.map(({ digest, vertex }) => ({
    digest,
    op: vertex.op,
    inputs: vertex.inputs,
    ...def.metadata[digest],
  }));
  const platforms = roots ? { platforms: Object.fromEntries(roots.map((r) => [r.platform, r.root])) } : {};
  return `${JSON.stringify(canonicalize({ root: def.root ?? null, ...platforms, vertices }), null, 2)}\n`;
}

export function definitionDot(def: Definition): string {
  const lines = ["digraph llb {", "  rankdir=BT;", '  node [shape=box, fontname="monospace"];'];
  for (const { digest, vertex } of def.vertices) {
    const name = def.metadata[digest]?.name;
    const label = [name, `${summary(vertex.op)}`, short(digest)].filter(Boolean).join("\n");
    lines.push(`  ${quote(short(digest))} [label=${quote(label)}];`);
    for (const input of vertex.inputs) lines.push(`  ${quote(short(input.digest))} -> ${quote(short(digest))} [label=${quote(String(input.output))}];`);
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** What `debug image-config` could not know, one field per line, for stderr. */
export function unknownFieldsText(unknown: readonly string[]): string {
  return `not known without running the build (left out above):\n${unknown.map((u) => ` - ${u}\n`).join("")}`;
}

function summary(op: Op): string {
  switch (op.kind) {
    case "source":
      return `source ${op.identifier}`;
    case "exec":
      return `exec ${op.meta.args.join(" ")}`;
    case "file":
      return `file ${op.actions.map((a) => (a.action === "copy" ? `copy ${a.src} ${a.dest}` : `${a.action} ${a.path}`)).join(", ") || "(scratch)"}`;
    case "merge":
      return "merge";
  }
}

function short(digest: string): string {
  return digest.replace(/^sha256:/, "").slice(0, 12);
}

function quote(s: string): string {
  return `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`;
}
