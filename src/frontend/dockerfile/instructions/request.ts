// What each instruction parser receives, and the error it throws: the instruction's node, location,
// trimmed text and flags; an error that carries the lines it concerns and a hint on how to fix it.
import type { Node } from "../parser/node.ts";
import type { FlagSpec, ParsedFlags } from "./flags.ts";
import type { CommandLine, Location } from "./types.ts";

/** An instruction error with the lines it concerns, a hint on how to fix it, and a specific code. */
export class InstructionError extends Error {
  override name = "InstructionError";
  constructor(
    message: string,
    readonly location: Location,
    readonly hint?: string,
    readonly code?: `E_DOCKERFILE_${string}`,
  ) {
    super(message);
  }
}

export type ParseRequest = {
  node: Node;
  args: string[];
  location: Location;
  /** The instruction's text, trimmed. */
  original: string;
  /** Parses the instruction's flags against the ones it accepts. */
  flags: (spec: FlagSpec) => ParsedFlags;
};

export function locationOf(node: Node): Location {
  return { startLine: node.startLine, endLine: node.endLine };
}

/** Exec form (JSON) keeps the words; shell form joins them into one command for the shell. */
export function commandLine(node: Node, args: string[]): CommandLine {
  if (node.attributes.json) return { cmdLine: args, prependShell: false };
  return { cmdLine: args.length > 0 ? [args.join(" ")] : [], prependShell: true };
}
