// Instruction flags (`--from=x`, `--link`, repeatable `--mount`): parsed against the set each
// instruction accepts, with BuildKit's rules and messages for unknown, repeated and empty flags.
import { closest } from "./suggest.ts";

export type FlagKind = "string" | "bool" | "strings";
export type FlagSpec = Record<string, FlagKind>;

export type ParsedFlags = {
  string(name: string): string | undefined;
  bool(name: string): boolean;
  /** undefined when the flag was not given (ADD --unpack and --keep-git-dir distinguish this). */
  boolOrUndefined(name: string): boolean | undefined;
  strings(name: string): string[];
};

/** A flag error; `hint` carries the closest valid flag for an unknown one. */
export class FlagError extends Error {
  override name = "FlagError";
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function parseFlags(raw: readonly string[], spec: FlagSpec): ParsedFlags {
  const values = new Map<string, string[]>();
  for (const arg of raw) {
    // "--" ends the flags; whatever follows is not looked at (POSIX utility syntax).
    if (arg === "--") break;
    if (!arg.startsWith("--")) throw new FlagError(`arg should start with -- : ${arg}`);
    const eq = arg.indexOf("=");
    const flagName = eq < 0 ? arg : arg.slice(0, eq);
    const value = eq < 0 ? undefined : arg.slice(eq + 1);
    const name = flagName.slice(2);
    const kind = spec[name];
    if (!kind) {
      const near = closest(name, Object.keys(spec), true);
      const known = Object.keys(spec).map((f) => `--${f}`);
      throw new FlagError(
        `unknown flag: ${flagName}`,
        near ? `did you mean --${near}?` : known.length > 0 ? `valid flags: ${known.join(", ")}` : "this instruction takes no flags",
      );
    }
    const seen = values.get(name);
    if (seen && kind !== "strings") throw new FlagError(`duplicate flag specified: ${flagName}`, "give the flag once");
    values.set(name, [...(seen ?? []), flagValue(kind, flagName, value)]);
  }
  return {
    string: (n) => values.get(n)?.[0],
    bool: (n) => values.get(n)?.[0] === "true",
    boolOrUndefined: (n) => (values.has(n) ? values.get(n)?.[0] === "true" : undefined),
    strings: (n) => values.get(n) ?? [],
  };
}

function flagValue(kind: FlagKind, flagName: string, value: string | undefined): string {
  if (kind === "bool") {
    if (value === "") throw new FlagError(`missing a value on flag: ${flagName}`);
    const v = (value ?? "true").toLowerCase();
    if (v !== "true" && v !== "false") throw new FlagError(`expecting boolean value for flag ${flagName}, not: ${value}`);
    return v;
  }
  if (value === undefined) throw new FlagError(`missing a value on flag: ${flagName}`, `write ${flagName}=VALUE`);
  return value;
}
