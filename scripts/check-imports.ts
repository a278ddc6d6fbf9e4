// Checks the import rules of docs/architecture.md over src/: each area (a top-level folder of src/)
// may import only the areas its allow-list names, the lists admit no cycle between areas, the shell
// lexer imports nothing internal, implementations behind a contract are reached only through it, files import no cycle and there are no barrel index.ts files.
// Exits 1 listing every violation.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** What each area may import besides itself. */
export const ALLOWED: Record<string, readonly string[]> = {
  "main.ts": ["cli", "util"],
  cli: ["control", "exporter", "llb", "registry", "util", "worker"],
  control: ["archive", "cache", "content", "exporter", "file", "frontend", "fs", "llb", "oci", "registry", "snapshot", "solver", "source", "util", "worker"],
  frontend: ["llb", "oci", "util"],
  solver: ["llb", "util"],
  exporter: ["archive", "cache", "content", "fs", "llb", "oci", "registry", "snapshot", "util"],
  source: ["archive", "cache", "content", "fs", "llb", "oci", "registry", "snapshot", "util"],
  worker: ["cache", "fs", "oci", "util"],
  file: ["archive", "fs", "llb", "util"],
  snapshot: ["archive", "cache", "fs", "oci", "util"],
  registry: ["content", "llb", "oci", "util"],
  content: ["llb", "oci", "util"],
  cache: ["llb", "util"],
  archive: ["fs", "util"],
  fs: ["util"],
  llb: ["oci", "util"],
  oci: ["util"],
  util: [],
};

/** Folders whose files may import only each other. */
const SEALED = ["frontend/dockerfile/shell"];

/**
 * Implementations behind a contract: only their own area and the areas named may import them
 * (control reaches runc through worker/executor.ts and worker/select.ts; cli shows runc's version).
 */
const BEHIND_CONTRACT: Record<string, readonly string[]> = { "worker/runc": ["cli"] };

const IMPORT_RE = /^\s*(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;

export type Violation = { file: string; message: string };

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

function areaOf(rel: string): string {
  return rel.includes("/") ? (rel.split("/")[0] as string) : rel;
}

export function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(IMPORT_RE)) out.push((m[1] ?? m[2] ?? m[3]) as string);
  return out;
}

export function checkImports(srcDir: string): Violation[] {
  const src = resolve(srcDir);
  const files = listFiles(src);
  const violations: Violation[] = [];
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const rel = relative(src, file);
    const text = readFileSync(file, "utf8");
    const edges: string[] = [];
    if (rel.endsWith("index.ts") && isBarrel(text)) violations.push({ file: rel, message: "barrel index.ts (only re-exports); import the module itself" });
    for (const spec of importsOf(text)) {
      if (!spec.startsWith(".")) continue;
      const target = relative(src, resolve(dirname(file), spec));
      if (target.startsWith("..")) continue;
      edges.push(target);
      violations.push(...ruleViolations(rel, target));
    }
    graph.set(rel, edges);
  }
  for (const cycle of findCycles(graph)) violations.push({ file: cycle[0] as string, message: `import cycle: ${cycle.join(" → ")}` });
  const areas = new Map(Object.entries(ALLOWED).map(([a, list]) => [a, [...list]]));
  for (const cycle of findCycles(areas)) violations.push({ file: "scripts/check-imports.ts", message: `the allow-lists let areas import in a cycle: ${cycle.join(" → ")}` });
  return violations;
}

function ruleViolations(from: string, to: string): Violation[] {
  const out: Violation[] = [];
  for (const sealed of SEALED) {
    if (from.startsWith(`${sealed}/`) && !to.startsWith(`${sealed}/`)) out.push({ file: from, message: `${sealed} must not import "${to}"` });
  }
  const a = areaOf(from);
  const b = areaOf(to);
  for (const [folder, allowed] of Object.entries(BEHIND_CONTRACT)) {
    if (to.startsWith(`${folder}/`) && a !== areaOf(folder) && !allowed.includes(a)) {
      out.push({ file: from, message: `${a} must not import "${to}": ${folder} is reached through its area's contract` });
    }
  }
  if (a === b) return out;
  const allowed = ALLOWED[a];
  if (allowed === undefined) out.push({ file: from, message: `"${a}" is not an area of the architecture` });
  else if (ALLOWED[b] === undefined) out.push({ file: from, message: `imports "${to}" in unknown area "${b}"` });
  else if (!allowed.includes(b)) out.push({ file: from, message: `${a} must not import ${b} ("${to}"): ${a} may import ${allowed.join(", ") || "nothing else"}` });
  return out;
}

function isBarrel(text: string): boolean {
  const statements = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("//"));
  return statements.length > 0 && statements.every((l) => /^export\s+(\*|\{[^}]*\})\s+from\s/.test(l));
}

/** Every elementary cycle found by a depth-first search (each reported once, from its first file). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "visiting");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "visiting") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next) && graph.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

if (import.meta.main) {
  const src = new URL("../src", import.meta.url).pathname;
  const violations = checkImports(src);
  for (const v of violations) console.error(`${v.file}: ${v.message}`);
  if (violations.length > 0) {
    console.error(`${violations.length} import rule violation(s)`);
    process.exit(1);
  }
  console.error("imports: ok");
}
