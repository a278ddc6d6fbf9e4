// Turns the parser's AST into typed instructions grouped by stage, checking each instruction's
// arguments and flags with BuildKit's rules. Values stay unexpanded: variables are expanded during
// conversion, where the environment of each step is known.
import type { Node } from "../parser/node.ts";
import type { ParseResult } from "../parser/parser.ts";
import { DurationError, parseGoDuration } from "./duration.ts";
import { FlagError, parseFlags } from "./flags.ts";
import { MountError } from "./mount.ts";
import { parseCopy, parseOnbuild, parseRun } from "./parse-exec.ts";
import { commandLine, InstructionError, locationOf, type ParseRequest } from "./request.ts";
import { closest } from "./suggest.ts";
import type { ArgCommand, Command, Dockerfile, FromCommand, HealthcheckCommand, KeyValue } from "./types.ts";

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

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
      throw new InstructionError("no build stage in current context", locationOf(node), `${node.value.toUpperCase()} cannot come before the first FROM; only ARG may`);
    }
  }
  if (df.stages.length === 0) {
    throw new InstructionError("dockerfile contains no stages to build", { startLine: 1, endLine: 1 }, "start a build stage with FROM IMAGE");
  }
  return df;
}

export function parseInstruction(node: Node): FromCommand | Command {
  const location = locationOf(node);
  const req: ParseRequest = {
    node,
    args: argsOf(node),
    location,
    original: node.original.trim(),
    flags: (spec) => parseFlags(node.flags, spec),
  };
  try {
    return parseKeyword(node.value.toLowerCase(), req);
  } catch (e) {
    if (e instanceof InstructionError) throw e;
    const hint = e instanceof FlagError || e instanceof MountError ? e.hint : undefined;
    throw new InstructionError(e instanceof Error ? e.message : String(e), location, hint);
  }
}

function parseKeyword(kind: string, req: ParseRequest): FromCommand | Command {
  const base = { location: req.location, original: req.original };
  const args = req.args;
  switch (kind) {
    case "from":
      return parseFrom(req);
    case "arg":
      return parseArg(req);
    case "env":
    case "label": {
      req.flags({});
      const pairs = keyValues(args, kind.toUpperCase());
      return kind === "env" ? { ...base, kind, env: pairs } : { ...base, kind, labels: pairs };
    }
    case "maintainer":
    case "workdir":
    case "user": {
      const value = exactlyOne(kind, args);
      req.flags({});
      if (kind === "maintainer") return { ...base, kind, maintainer: value };
      return kind === "workdir" ? { ...base, kind, path: value } : { ...base, kind, user: value };
    }
    case "stopsignal":
      // BuildKit does not look at STOPSIGNAL's flags.
      return { ...base, kind, signal: exactlyOne(kind, args) };
    case "expose":
      if (args.length === 0) throw new Error("EXPOSE requires at least one argument");
      req.flags({});
      return { ...base, kind, ports: [...args].sort() };
    case "volume":
      if (args.length === 0) throw new Error("VOLUME requires at least one argument");
      req.flags({});
      return { ...base, kind, volumes: args.map((v) => v.trim()).map((v) => (v === "" ? emptyVolume() : v)) };
    case "shell":
      req.flags({});
      if (args.length === 0) throw new Error("SHELL requires at least one argument");
      if (!req.node.attributes.json) throw new InstructionError("SHELL requires the arguments to be in JSON form", req.location, `write it as SHELL ["executable", "parameters"]`);
      return { ...base, kind, shell: args };
    case "cmd":
      req.flags({});
      return { ...base, kind, ...commandLine(req.node, args) };
    case "entrypoint": {
      req.flags({});
      const line = commandLine(req.node, args);
      return { ...base, kind, cmdLine: line.cmdLine.length === 0 ? undefined : line.cmdLine, prependShell: line.prependShell };
    }
    case "healthcheck":
      return parseHealthcheck(req);
    case "run":
      return parseRun(req);
    case "copy":
    case "add":
      return parseCopy(req, kind);
    case "onbuild":
      return parseOnbuild(req);
  }
  const word = req.node.value;
  const near = closest(word, KEYWORDS.map((k) => k.toUpperCase()), false);
  throw new InstructionError(`unknown instruction: ${word}`, req.location, near ? `did you mean ${near}?` : `valid instructions: ${KEYWORDS.map((k) => k.toUpperCase()).join(", ")}`);
}

/** An instruction's arguments; ONBUILD's nested instruction contributes its keyword and arguments. */
function argsOf(node: Node): string[] {
  const out: string[] = [];
  for (let n = node.next; n; n = n.next) {
    const sub = n.children[0];
    if (n.children.length === 0) out.push(n.value);
    else if (n.children.length === 1 && sub) out.push(sub.value, ...argsOf(sub));
  }
  return out;
}

function emptyVolume(): never {
  throw new Error("VOLUME specified can not be an empty string");
}

function exactlyOne(kind: string, args: string[]): string {
  if (args.length !== 1) throw new Error(`${kind.toUpperCase()} requires exactly one argument`);
  return args[0] as string;
}

function parseFrom(req: ParseRequest): FromCommand {
  const args = req.args;
  let stageName: string | undefined;
  if (args.length === 3 && (args[1] as string).toLowerCase() === "as") {
    stageName = (args[2] as string).toLowerCase();
    if (!STAGE_NAME.test(stageName)) {
      throw new Error(`invalid name for build stage: "${args[2]}", name can't start with a number or contain symbols`);
    }
  } else if (args.length !== 1) {
    throw new Error("FROM requires either one or three arguments");
  }
  const platform = req.flags({ platform: "string" }).string("platform");
  return { location: req.location, original: req.original, kind: "from", image: args[0] as string, stageName, platform: platform || undefined };
}

/** BuildKit does not parse ARG's flags; `NAME=value` splits at the first "=". */
function parseArg(req: ParseRequest): ArgCommand {
  if (req.args.length === 0) throw new Error("ARG requires at least one argument");
  const args = req.args.map((a) => {
    const eq = a.indexOf("=");
    if (eq === 0) throw new Error("ARG names can not be blank");
    return eq < 0 ? { key: a, value: undefined } : { key: a.slice(0, eq), value: a.slice(eq + 1) };
  });
  return { location: req.location, original: req.original, kind: "arg", args };
}

/** ENV and LABEL arguments come from the parser as (key, value, separator) triples. */
function keyValues(args: string[], name: string): KeyValue[] {
  if (args.length === 0) throw new Error(`${name} requires at least one argument`);
  if (args.length % 3 !== 0) throw new Error(`Bad input to ${name}, too many arguments`);
  const out: KeyValue[] = [];
  for (let i = 0; i < args.length; i += 3) {
    if (args[i] === "") throw new Error(`${name} names can not be blank`);
    out.push({ key: args[i] as string, value: args[i + 1] as string });
  }
  return out;
}

function parseHealthcheck(req: ParseRequest): HealthcheckCommand {
  const base = { location: req.location, original: req.original, kind: "healthcheck" as const };
  if (req.args.length === 0) throw new Error("HEALTHCHECK requires at least one argument");
  const typ = (req.args[0] as string).toUpperCase();
  const rest = req.args.slice(1);
  const zero = { interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 };
  if (typ === "NONE") {
    // As in BuildKit, NONE ignores flags.
    if (rest.length !== 0) throw new Error("HEALTHCHECK NONE takes no arguments");
    return { ...base, test: ["NONE"], ...zero };
  }
  const flags = req.flags({ interval: "string", timeout: "string", "start-period": "string", "start-interval": "string", retries: "string" });
  if (typ !== "CMD") throw new InstructionError(`Unknown type "${typ}" in HEALTHCHECK (try CMD)`, req.location, "write HEALTHCHECK CMD command, or HEALTHCHECK NONE");
  const cmd = commandLine(req.node, rest).cmdLine;
  if (cmd.length === 0) throw new Error("Missing command after HEALTHCHECK CMD");
  const retriesText = flags.string("retries") ?? "";
  let retries = 0;
  if (retriesText !== "") {
    if (!/^[+-]?\d+$/.test(retriesText)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(retriesText)}: invalid syntax`);
    retries = Number(retriesText);
    if (retries < 0) throw new Error(`--retries cannot be negative (${retries})`);
  }
  return {
    ...base,
    test: [req.node.attributes.json ? "CMD" : "CMD-SHELL", ...cmd],
    interval: interval("interval", flags.string("interval")),
    timeout: interval("timeout", flags.string("timeout")),
    startPeriod: interval("start-period", flags.string("start-period")),
    startInterval: interval("start-interval", flags.string("start-interval")),
    retries,
  };
}

/** A HEALTHCHECK duration in nanoseconds: empty is 0, anything else at least 1ms. */
function interval(name: string, value: string | undefined): number {
  if (value === undefined || value === "") return 0;
  let ns: number;
  try {
    ns = parseGoDuration(value);
  } catch (e) {
    if (e instanceof DurationError) throw new FlagError(e.message, `--${name} takes a duration like 30s, 1m30s or 500ms`);
    throw e;
  }
  if (ns === 0) return 0;
  if (ns < 1_000_000) throw new FlagError(`Interval "${name}" cannot be less than 1ms`);
  return ns;
}
