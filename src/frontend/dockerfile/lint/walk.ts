// The Dockerfile as the build checks see it: each instruction's AST node (keyword as written,
// comments above it) beside its typed command, grouped by stage.
import { parseInstruction } from "../instructions/parse.ts";
import type { ArgCommand, Command, FromCommand } from "../instructions/types.ts";
import type { Node } from "../parser/node.ts";

export type Entry<C> = { node: Node; cmd: C };

export type LintStage = { from: Entry<FromCommand>; commands: Entry<Command>[] };

export type LintFile = { metaArgs: Entry<ArgCommand>[]; stages: LintStage[] };

/** Groups the AST's instructions by stage (errors are the same as the build's). */
export function walkDockerfile(ast: Node): LintFile {
  const out: LintFile = { metaArgs: [], stages: [] };
  for (const node of ast.children) {
    const cmd = parseInstruction(node);
    if (cmd.kind === "from") {
      out.stages.push({ from: { node, cmd }, commands: [] });
      continue;
    }
    const stage = out.stages.at(-1);
    if (stage) stage.commands.push({ node, cmd });
    else if (cmd.kind === "arg") out.metaArgs.push({ node, cmd });
  }
  return out;
}

/** The FROM line's words after the image as written: ["image", "AS", "name"]. */
export function fromWords(node: Node): string[] {
  const words: string[] = [];
  for (let n = node.next; n; n = n.next) words.push(n.value);
  return words;
}
