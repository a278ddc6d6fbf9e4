// Instruction flags (`--from=x`, `--link`, repeatable `--mount`): parsed against the set each
// instruction accepts, with BuildKit's errors for unknown and repeated flags.

export type FlagSpec = Record<string, "string" | "bool" | "strings">;

export type ParsedFlags = {
  string(name: string): string | undefined;
  bool(name: string): boolean;
  boolOrUndefined(name: string): boolean | undefined;
  strings(name: string): string[];
};

export class FlagError extends Error {
  override name = "FlagError";
}

export function parseFlags(raw: readonly string[], spec: FlagSpec): ParsedFlags {
  const values = new Map<string, string[]>();
  for (const arg of raw) {
    if (!arg.startsWith("--")) throw new FlagError(`arguments must begin with '--'`);
    const body = arg.slice(2);
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const value = eq < 0 ? undefined : body.slice(eq + 1);
    const kind = spec[name];
    if (!kind) throw new FlagError(`unknown flag: --${name}`);
    const seen = values.get(name);
    if (seen && kind !== "strings") throw new FlagError(`duplicate flag specified: --${name}`);
    if (kind === "bool") {
      if (value !== undefined && value.toLowerCase() !== "true" && value.toLowerCase() !== "false") {
        throw new FlagError(`expecting boolean value for flag ${name}, not: ${value}`);
      }
    } else if (value === undefined) {
      throw new FlagError(`missing a value on flag: --${name}`);
    }
    values.set(name, [...(seen ?? []), value ?? "true"]);
  }
  return {
    string: (n) => values.get(n)?.[0],
    bool: (n) => values.get(n)?.[0]?.toLowerCase() === "true",
    boolOrUndefined: (n) => (values.has(n) ? values.get(n)?.[0]?.toLowerCase() === "true" : undefined),
    strings: (n) => values.get(n) ?? [],
  };
}
