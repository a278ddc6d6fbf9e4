// citty ignores flags a command does not declare and positionals beyond its own: a typo such as
// `kitbuild prune --keep-storge 1GB` would prune everything. Commands other than build and debug
// (whose flags go through the pflag scanner) check their raw arguments here first.
import type { ArgsDef } from "citty";
import { KitError } from "../util/errors.ts";

/** Throws E_USAGE for a flag `defs` does not declare, a string flag without its value, or a surplus positional. */
export function checkArgs(command: string, rawArgs: readonly string[], defs: ArgsDef): void {
  const positionals = Object.values(defs).filter((d) => d.type === "positional").length;
  let seen = 0;
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i] as string;
    if (arg === "--") {
      seen += rawArgs.length - i - 1;
      break;
    }
    if (arg.startsWith("-") && arg !== "-") {
      i += flagArity(command, arg, defs, rawArgs[i + 1]);
      continue;
    }
    seen++;
  }
  if (seen > positionals) {
    throw usage(command, positionals === 0 ? `"kitbuild ${command}" accepts no arguments` : `"kitbuild ${command}" accepts at most ${positionals} argument${positionals === 1 ? "" : "s"}`);
  }
}

/** How many of the following arguments the flag `arg` takes as its value (0 or 1). */
function flagArity(command: string, arg: string, defs: ArgsDef, next: string | undefined): number {
  if (!arg.startsWith("--")) return shortFlagsArity(command, arg.slice(1), defs, next);
  const [spelled = "", inlineValue] = arg.split("=", 2);
  const def = findDef(defs, spelled.slice(2));
  if (!def) throw usage(command, `unknown flag: ${spelled}`);
  if (def.type !== "string" || inlineValue !== undefined) return 0;
  if (next === undefined) throw usage(command, `flag needs an argument: ${spelled}`);
  return 1;
}

/** `-af` is `-a -f`; a string flag ends the group, taking the rest (`-uname`, `-u=name`) or the next argument. */
function shortFlagsArity(command: string, group: string, defs: ArgsDef, next: string | undefined): number {
  for (let i = 0; i < group.length; i++) {
    const letter = group[i] as string;
    const def = findDef(defs, letter);
    if (!def) throw usage(command, `unknown shorthand flag: '${letter}' in -${group}`);
    if (def.type !== "string") continue;
    if (i + 1 < group.length) return 0;
    if (next === undefined) throw usage(command, `flag needs an argument: '${letter}' in -${group}`);
    return 1;
  }
  return 0;
}

function findDef(defs: ArgsDef, name: string): ArgsDef[string] | undefined {
  return Object.entries(defs).find(([key, d]) => d.type !== "positional" && (key === name || aliases(d).includes(name)))?.[1];
}

function aliases(def: ArgsDef[string]): string[] {
  const alias = "alias" in def ? def.alias : undefined;
  return alias === undefined ? [] : Array.isArray(alias) ? alias : [alias];
}

function usage(command: string, message: string): KitError {
  return new KitError("E_USAGE", message, { hint: `see kitbuild ${command} --help` });
}
