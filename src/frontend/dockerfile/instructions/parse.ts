// Turns the parser's AST into typed instructions grouped by stage, checking each instruction's
// arguments and flags. Values stay unexpanded: variables are expanded during conversion, where the
// environment of each step is known.
import { nextValues, type Node } from "../parser/node.ts";
import type { ParseResult } from "../parser/parser.ts";
import { FlagError, type FlagSpec, parseFlags } from "./flags.ts";
import type {
  ArgCommand, Command, CommandLine, CopyCommand, Dockerfile, FromCommand, HealthcheckCommand, KeyValue, Location,
  RunCommand,
} from "./types.ts";

/** An instruction error with the lines it concerns. */
export class InstructionError extends Error {
  override name = "InstructionError";
  constructor(
    message: string,
    readonly location: Location,
    readonly hint?: string,
    /** A more specific error code than E_DOCKERFILE_INVALID. */
    readonly code?: `E_DOCKERFILE_${string}`,
  ) {
    super(message);
  }
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

const FLAGS: Record<string, FlagSpec> = {
  from: { platform: "string" },
  run: { mount: "strings", network: "string", security: "string" },
  copy: { from: "string", chown: "string", chmod: "string", link: "bool", parents: "bool", exclude: "strings" },
  add: { chown: "string", chmod: "string", link: "bool", "keep-git-dir": "bool", checksum: "string", exclude: "strings", unpack: "bool" },
  healthcheck: { interval: "string", timeout: "string", "start-period": "string", "start-interval": "string", retries: "string" },
};

const KEYWORDS = [
  "add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from", "healthcheck", "label", "maintainer",
  "onbuild", "run", "shell", "stopsignal", "user", "volume", "workdir",
];

export function parseInstructions(parsed: ParseResult, lines: string[]): Dockerfile {
  const df: Dockerfile = { metaArgs: [], stages: [], escapeToken: parsed.escapeToken, lines };
  for (const node of parsed.ast.children) {
    const cmd = parseInstruction(node);
    if (cmd.kind === "from") {
      df.stages.push({ name: cmd.stageName, index: df.stages.length, from: cmd, commands: [] });
      continue;
    }
    const stage = df.stages.at(-1);
    if (stage) stage.commands.push(cmd);
    else if (cmd.kind === "arg") df.metaArgs.push(cmd);
    else {
      throw new InstructionError(`${node.value.toUpperCase()} cannot come before the first FROM`, locationOf(node), "only ARG may precede FROM");
    }
  }
  if (df.stages.length === 0) {
    throw new InstructionError("the Dockerfile has no FROM instruction", { startLine: 1, endLine: 1 }, "start the build stage with FROM IMAGE");
  }
  return df;
}

export function parseInstruction(node: Node): FromCommand | Command {
  const kind = node.value.toLowerCase();
  const location = locationOf(node);
  const base = { location, original: node.original };
  try {
    if (!KEYWORDS.includes(kind)) throw unknownInstruction(node.value, location);
    const flags = parseFlags(node.flags, FLAGS[kind] ?? {});
    const args = nextValues(node);
    switch (kind) {
      case "from":
        return parseFrom(base, args, flags.string("platform"));
      case "arg":
        return parseArg(base, args);
      case "env":
      case "label": {
        const pairs = keyValues(node);
        if (pairs.length === 0) throw new Error(`${kind.toUpperCase()} requires at least one argument`);
        return kind === "env" ? { ...base, kind, env: pairs } : { ...base, kind, labels: pairs };
      }
      case "maintainer":
        return { ...base, kind, maintainer: one(kind, args) };
      case "workdir":
        return { ...base, kind, path: one(kind, args) };
      case "user":
        return { ...base, kind, user: one(kind, args) };
      case "stopsignal":
        return { ...base, kind, signal: one(kind, args) };
      case "expose":
        if (args.length === 0) throw new Error("EXPOSE requires at least one argument");
        return { ...base, kind, ports: args };
      case "volume":
        if (args.length === 0) throw new Error("VOLUME requires at least one argument");
        return { ...base, kind, volumes: args };
      case "shell":
        if (!node.attributes.json) throw new Error("SHELL requires the arguments to be in JSON form");
        if (args.length === 0) throw new Error("SHELL requires at least one argument");
        return { ...base, kind, shell: args };
      case "cmd":
      case "entrypoint":
        return { ...base, kind, ...commandLine(node, args) };
      case "run":
        return parseRun(base, node, args, flags);
      case "copy":
      case "add":
        return parseCopy(base, kind, node, args, flags);
      case "healthcheck":
        return parseHealthcheck(base, node, args, flags);
      case "onbuild":
        return parseOnbuild(base, node);
    }
    throw unknownInstruction(node.value, location);
  } catch (e) {
    if (e instanceof InstructionError) throw e;
    const message = e instanceof FlagError ? e.message : e instanceof Error ? e.message : String(e);
    throw new InstructionError(`${kind.toUpperCase()}: ${message}`.replace(/^(\w+): \1 /, "$1 "), location);
  }
}

function locationOf(node: Node): Location {
  return { startLine: node.startLine, endLine: node.endLine };
}

function unknownInstruction(word: string, location: Location): InstructionError {
  const lower = word.toLowerCase();
  const close = KEYWORDS.find((k) => editDistance(k, lower) <= 2);
  return new InstructionError(`unknown instruction: ${word.toUpperCase()}`, location, close ? `did you mean ${close.toUpperCase()}?` : undefined);
}

function one(kind: string, args: string[]): string {
  if (args.length !== 1 || args[0] === "") throw new Error(`${kind.toUpperCase()} requires exactly one argument`);
  return args[0] as string;
}

function parseFrom(base: { location: Location; original: string }, args: string[], platform: string | undefined): FromCommand {
  if (args.length !== 1 && args.length !== 3) throw new Error("FROM requires either one or three arguments");
  let stageName: string | undefined;
  if (args.length === 3) {
    if ((args[1] as string).toLowerCase() !== "as") throw new Error(`FROM expects "AS" as its second word, got "${args[1]}"`);
    stageName = (args[2] as string).toLowerCase();
    if (!STAGE_NAME.test(stageName)) {
      throw new Error(`invalid name for build stage: "${args[2]}", name can't start with a number or contain symbols`);
    }
  }
  return { ...base, kind: "from", image: args[0] as string, stageName, platform };
}

function parseArg(base: { location: Location; original: string }, args: string[]): ArgCommand {
  if (args.length === 0) throw new Error("ARG requires at least one argument");
  return {
    ...base,
    kind: "arg",
    args: args.map((a) => {
      const eq = a.indexOf("=");
      return eq < 0 ? { key: a, value: undefined } : { key: a.slice(0, eq), value: a.slice(eq + 1) };
    }),
  };
}

function keyValues(node: Node): KeyValue[] {
  const out: KeyValue[] = [];
  for (let n = node.next; n; n = n.next?.next?.next) {
    out.push({ key: n.value, value: n.next?.value ?? "" });
  }
  return out;
}

function commandLine(node: Node, args: string[]): CommandLine {
  if (node.attributes.json) return { cmdLine: args, prependShell: false };
  return { cmdLine: args.length > 0 ? [args.join(" ")] : [], prependShell: true };
}

function parseRun(base: { location: Location; original: string }, node: Node, args: string[], flags: ReturnType<typeof parseFlags>): RunCommand {
  const line = commandLine(node, args);
  if (line.cmdLine.length === 0 && node.heredocs.length === 0) throw new Error("RUN requires at least one argument");
  return { ...base, kind: "run", ...line, mounts: flags.strings("mount"), network: flags.string("network"), security: flags.string("security"), heredocs: node.heredocs };
}

function parseCopy(base: { location: Location; original: string }, kind: "copy" | "add", node: Node, args: string[], flags: ReturnType<typeof parseFlags>): CopyCommand {
  if (args.length < 2) {
    throw new Error(`${kind.toUpperCase()} requires at least two arguments, but only one was provided. Destination could not be determined.`);
  }
  return {
    ...base,
    kind,
    sources: args.slice(0, -1),
    dest: args.at(-1) as string,
    heredocs: node.heredocs,
    from: kind === "copy" ? flags.string("from") : undefined,
    chown: flags.string("chown"),
    chmod: flags.string("chmod"),
    link: flags.bool("link"),
    parents: kind === "copy" ? flags.bool("parents") : false,
    exclude: flags.strings("exclude"),
    checksum: kind === "add" ? flags.string("checksum") : undefined,
    keepGitDir: kind === "add" ? flags.bool("keep-git-dir") : false,
    unpack: kind === "add" ? flags.boolOrUndefined("unpack") : undefined,
  };
}

function parseHealthcheck(base: { location: Location; original: string }, node: Node, args: string[], flags: ReturnType<typeof parseFlags>): HealthcheckCommand {
  const typ = (args[0] ?? "").toUpperCase();
  const none = { interval: undefined, timeout: undefined, startPeriod: undefined, startInterval: undefined, retries: undefined };
  if (typ === "NONE") {
    if (args.length > 1) throw new Error("HEALTHCHECK NONE takes no arguments");
    return { ...base, kind: "healthcheck", test: undefined, ...none };
  }
  if (typ !== "CMD") throw new Error(`Unknown type "${typ}" in HEALTHCHECK (try CMD)`);
  const rest = args.slice(1);
  if (rest.length === 0) throw new Error("Missing command after HEALTHCHECK CMD");
  const test = node.attributes.json ? ["CMD", ...rest] : ["CMD-SHELL", rest.join(" ")];
  const retries = flags.string("retries");
  if (retries !== undefined && !/^\d+$/.test(retries)) throw new Error(`--retries must be a whole number, got "${retries}"`);
  return {
    ...base,
    kind: "healthcheck",
    test,
    interval: duration("interval", flags.string("interval")),
    timeout: duration("timeout", flags.string("timeout")),
    startPeriod: duration("start-period", flags.string("start-period")),
    startInterval: duration("start-interval", flags.string("start-interval")),
    retries: retries === undefined ? undefined : Number(retries),
  };
}

function parseOnbuild(base: { location: Location; original: string }, node: Node) {
  const child = node.next?.children[0];
  if (!child) throw new Error("ONBUILD requires at least one argument");
  const trigger = child.value.toUpperCase();
  if (trigger === "ONBUILD") throw new Error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (trigger === "FROM" || trigger === "MAINTAINER") throw new Error(`${trigger} isn't allowed as an ONBUILD trigger`);
  return { ...base, kind: "onbuild" as const, expression: child.original };
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration ("30s", "1m30s") in nanoseconds; at least 1ms when not zero, as docker requires. */
function duration(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    consumed = re.lastIndex;
  }
  if (consumed !== value.length || value === "") throw new Error(`--${name}: invalid duration "${value}"`);
  if (total > 0 && total < 1e6) throw new Error(`Interval "${name}" cannot be less than 1ms`);
  return total;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

