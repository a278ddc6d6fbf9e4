// `kitbuild build` flags, parsed the way docker buildx parses them (pflag rules): `--flag value`,
// `--flag=value`, `-f value`, `-fvalue`, repeatable flags, `--` to end flags.
import { cpus } from "node:os";
import type { BuildRequest, FrontendAttrs } from "../control/request.ts";
import { KitError } from "../util/errors.ts";
import { parseOutputs, splitCsv } from "./output-flags.ts";
import { ENTITLEMENTS, type Entitlement } from "../worker/runc/exec-services.ts";
import type { SecretSource } from "../worker/runc/secrets.ts";
import type { SshSource } from "../worker/runc/ssh-agents.ts";

export type ProgressMode = "auto" | "tty" | "plain" | "rawjson" | "quiet";

/** The command fills in what the caller's process provides (env, config, stdout). */
export type BuildFlags = Omit<BuildRequest, "env" | "config" | "stdout"> & {
  progress: ProgressMode;
  /** -f -: the command reads the Dockerfile from stdin (see withDockerfileText). */
  dockerfileOnStdin: boolean;
};

type Spec = { kind: "string" | "bool" | "list"; short?: string };

const SPECS: Record<string, Spec> = {
  file: { kind: "string", short: "f" },
  "build-arg": { kind: "list" },
  target: { kind: "string" },
  output: { kind: "list", short: "o" },
  progress: { kind: "string" },
  quiet: { kind: "bool", short: "q" },
  "no-cache": { kind: "bool" },
  "no-cache-filter": { kind: "list" },
  "debug-cache": { kind: "bool" },
  "insecure-registry": { kind: "list" },
  "max-parallelism": { kind: "string" },
  platform: { kind: "string" },
  tag: { kind: "list", short: "t" },
  push: { kind: "bool" },
  load: { kind: "bool" },
  label: { kind: "list" },
  iidfile: { kind: "string" },
  "metadata-file": { kind: "string" },
  secret: { kind: "list" },
  ssh: { kind: "list" },
  allow: { kind: "list" },
};

const usage = (message: string, hint?: string) => new KitError("E_USAGE", message, { hint: hint ?? "see kitbuild build --help" });

export function parseBuildFlags(argv: readonly string[], env: Record<string, string | undefined>): BuildFlags {
  const { values, positionals } = scan(argv);
  if (positionals.length !== 1) {
    throw usage(positionals.length === 0 ? "a build context is required" : `expected one build context, got ${positionals.length}: ${positionals.join(" ")}`, "usage: kitbuild build [OPTIONS] PATH (for example: kitbuild .)");
  }
  const str = (n: string) => values.get(n)?.at(-1);
  const list = (n: string) => values.get(n) ?? [];
  const bool = (n: string) => {
    const v = str(n);
    return v !== undefined && v !== "false";
  };
  const platform = str("platform");
  if (platform !== undefined) throw usage(`--platform "${platform}" is not supported yet`, "kitbuild builds for the host's platform in this version; drop --platform");
  const progress = bool("quiet") ? "quiet" : (str("progress") ?? "auto");
  if (!["auto", "tty", "plain", "rawjson", "quiet"].includes(progress)) {
    throw usage(`invalid --progress "${progress}"`, "use one of auto, tty, plain, rawjson, quiet");
  }
  const outputs = parseOutputs({ outputs: list("output"), tags: list("tag"), push: bool("push"), load: bool("load") });
  const toStdout = outputs.some((o) => "dest" in o && o.dest === "-") || str("metadata-file") === "-" || str("iidfile") === "-";
  if (progress === "rawjson" && toStdout) throw usage("--progress=rawjson and an output to stdout both need stdout");
  const maxParallelism = str("max-parallelism");
  if (maxParallelism !== undefined && !/^[1-9]\d*$/.test(maxParallelism)) throw usage(`--max-parallelism must be a positive number, got "${maxParallelism}"`);
  const file = str("file");
  return {
    frontend: {
      contextDir: positionals[0] as string,
      dockerfilePath: file === "-" ? undefined : file,
      dockerfileText: undefined,
      buildArgs: parseBuildArgs(list("build-arg"), env),
      target: str("target"),
      noCacheFilter: list("no-cache-filter").flatMap((v) => v.split(",")).filter(Boolean),
    },
    exports: { outputs, labels: parseLabels(list("label")), iidFile: str("iidfile"), metadataFile: str("metadata-file") },
    cacheImports: [],
    cacheExports: [],
    session: {
      secrets: list("secret").map(parseSecret),
      ssh: list("ssh").map(parseSsh),
      allow: list("allow").flatMap((v) => v.split(",")).filter(Boolean).map(parseEntitlement),
    },
    solve: {
      noCache: bool("no-cache"),
      maxParallelism: maxParallelism === undefined ? Math.max(2, cpus().length) : Number(maxParallelism),
      debugCache: bool("debug-cache"),
    },
    registry: { insecureRegistries: list("insecure-registry") },
    progress: progress as ProgressMode,
    dockerfileOnStdin: file === "-",
  };
}

/** -f -: the Dockerfile's text, read by the command so that parsing stays synchronous. */
export async function withDockerfileText(frontend: FrontendAttrs, onStdin: boolean): Promise<FrontendAttrs> {
  return onStdin ? { ...frontend, dockerfileText: await Bun.stdin.text() } : frontend;
}


function scan(argv: readonly string[]): { values: Map<string, string[]>; positionals: string[] } {
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  const set = (name: string, value: string) => values.set(name, [...(values.get(name) ?? []), value]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else {
      const short = arg[1] as string;
      const found = Object.entries(SPECS).find(([, s]) => s.short === short);
      if (!found) throw usage(`unknown shorthand flag: '${short}' in ${arg}`);
      name = found[0];
      const rest = arg.slice(2);
      inline = rest === "" ? undefined : rest.startsWith("=") ? rest.slice(1) : rest;
      if (found[1].kind === "bool" && rest !== "") throw usage(`unknown shorthand flag in ${arg}`);
    }
    const spec = SPECS[name];
    if (!spec) throw usage(`unknown flag: --${name}`);
    if (spec.kind === "bool") {
      if (inline !== undefined && !/^(true|false|1|0)$/i.test(inline)) throw usage(`invalid boolean value "${inline}" for --${name}`);
      set(name, inline === undefined ? "true" : /^(true|1)$/i.test(inline) ? "true" : "false");
      continue;
    }
    if (inline === undefined) {
      if (i + 1 >= argv.length) throw usage(`flag needs an argument: --${name}`);
      inline = argv[++i] as string;
    }
    set(name, inline);
  }
  return { values, positionals };
}

/** `K=V`, or `K` alone to take K's value from the environment (skipped when it is not set). */
function parseBuildArgs(list: string[], env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf("=");
    if (eq === 0) throw usage(`invalid --build-arg "${item}"`, "use --build-arg NAME=VALUE");
    if (eq < 0) {
      const v = env[item];
      if (v !== undefined) out[item] = v;
    } else {
      out[item.slice(0, eq)] = item.slice(eq + 1);
    }
  }
  return out;
}

function parseLabels(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw usage(`invalid --label "${item}"`, "use --label KEY=VALUE");
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** `id=ID[,src=FILE|,env=VAR][,type=file|env]`, as buildx reads --secret. */
export function parseSecret(spec: string): SecretSource {
  const out: SecretSource = { id: "" };
  let type: string | undefined;
  for (const field of splitCsv(spec)) {
    const eq = field.indexOf("=");
    if (eq < 0) throw usage(`invalid --secret field "${field}" in "${spec}": fields are key=value pairs`, "write it as --secret id=ID,src=FILE or --secret id=ID,env=VAR");
    const key = field.slice(0, eq).trim().toLowerCase();
    const value = field.slice(eq + 1);
    if (key === "id") out.id = value;
    else if (key === "src" || key === "source") out.file = value;
    else if (key === "env") out.env = value;
    else if (key === "type") {
      if (value !== "file" && value !== "env") throw usage(`unsupported --secret type "${value}"`, "use type=file or type=env");
      type = value;
    } else throw usage(`unknown --secret field "${key}" in "${spec}"`, "the fields are id, src (or source), env and type");
  }
  if (!out.id) throw usage(`--secret "${spec}" has no id`, "write it as --secret id=ID,src=FILE or --secret id=ID,env=VAR");
  // type=env with src= names the variable (buildx).
  if (type === "env" && out.env === undefined && out.file !== undefined) return { id: out.id, env: out.file };
  return out;
}

/** `default`, `ID`, `ID=SOCKET` or `ID=KEY[,KEY…]`, as buildx reads --ssh. */
export function parseSsh(spec: string): SshSource {
  const eq = spec.indexOf("=");
  const id = eq < 0 ? spec : spec.slice(0, eq);
  if (!id) throw usage(`--ssh "${spec}" has no id`, "write it as --ssh default or --ssh ID=SOCKET|KEYFILE");
  return { id, paths: eq < 0 ? [] : spec.slice(eq + 1).split(",") };
}

function parseEntitlement(value: string): Entitlement {
  if ((ENTITLEMENTS as readonly string[]).includes(value)) return value as Entitlement;
  throw usage(`unknown entitlement "${value}" in --allow`, `kitbuild grants ${ENTITLEMENTS.join(" and ")}`);
}
