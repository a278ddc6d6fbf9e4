// The flags of `kitbuild build` and `kitbuild debug`, each declared once: its kind, short alias,
// --help text and the commands that take it. citty's `args` (which only print --help) and the
// pflag-compatible scanner that really reads argv are both derived from this table, so a flag
// cannot be shown without being parsed or parsed without being shown. citty's own parser is not
// used for these commands: it folds `--no-cache` into a negated `--cache` and keeps only the last
// of a repeated flag.
import type { ArgsDef } from "citty";
import { KitError } from "../util/errors.ts";

export type FlagCommand = "build" | "debug llb" | "debug image-config";

/** optional: a value only after "=", bare means "true" (pflag's NoOptDefVal: --provenance, --sbom). */
type FlagKind = "string" | "bool" | "list" | "optional";

type FlagDef = {
  kind: FlagKind;
  short?: string;
  description: string;
  commands: readonly FlagCommand[];
  /** Parsed but left out of --help (accepted only to be refused with a hint). */
  hidden?: true;
};

const BUILD = ["build"] as const;
// The frontend's and registry's flags: all that a conversion without solving reads.
const CONVERT = ["build", "debug llb", "debug image-config"] as const;

/** In --help order. */
const FLAGS: Record<string, FlagDef> = {
  file: { kind: "string", short: "f", commands: CONVERT, description: "Name of the Dockerfile (default: PATH/Dockerfile; - reads stdin)" },
  "build-arg": { kind: "list", commands: CONVERT, description: "Set a build-time variable (repeatable)" },
  "build-context": { kind: "list", commands: CONVERT, description: "Additional build context (repeatable), NAME=VALUE for FROM NAME and COPY --from=NAME: a directory, docker-image://REF, oci-layout://DIR[:TAG|@DIGEST], a git URL or an https:// URL" },
  target: { kind: "string", commands: CONVERT, description: "Set the target build stage to build" },
  output: { kind: "list", short: "o", commands: BUILD, description: "Output (repeatable): type=local|tar|oci|docker|image|registry with dest=, name=, push=, compression=, platform-split=, annotation.KEY=, registry.insecure=, … (README: Outputs)" },
  tag: { kind: "list", short: "t", commands: BUILD, description: "Image name (repeatable): kept in kitbuild's image store (see kitbuild images) and given to image outputs, --push and --load" },
  push: { kind: "bool", commands: BUILD, description: "Push the image (same as -o type=registry)" },
  load: { kind: "bool", commands: BUILD, description: "Load the image into docker, or podman when docker is not on PATH (same as -o type=docker)" },
  label: { kind: "list", commands: BUILD, description: "Set an image label, KEY=VALUE (repeatable)" },
  iidfile: { kind: "string", commands: BUILD, description: "Write the image ID (its config digest) to a file" },
  "metadata-file": { kind: "string", commands: BUILD, description: "Write the build's metadata (image digests and name) as JSON; - for stdout" },
  progress: { kind: "string", commands: BUILD, description: "Progress output: auto, tty, plain, rawjson, quiet, none (default auto)" },
  quiet: { kind: "bool", short: "q", commands: BUILD, description: "Suppress the build output and print the image ID on success (without -t or an output, the image is kept untagged)" },
  "no-cache": { kind: "bool", commands: BUILD, description: "Do not use cache when building" },
  pull: { kind: "bool", commands: BUILD, description: "Always resolve base images in the registry, not kitbuild's image store (tags are always resolved anew; see kitbuild images)" },
  "cache-from": { kind: "list", commands: BUILD, description: "Import a remote cache (repeatable): REF, type=registry,ref=REF or type=local,src=DIR[,tag=T]" },
  "cache-to": { kind: "list", commands: BUILD, description: "Export the cache (repeatable): type=registry,ref=REF or type=local,dest=DIR, with mode=min|max, max-entries=N, cache-mounts=ID (quoted for several), ignore-error=true" },
  "no-cache-filter": { kind: "list", commands: CONVERT, description: "Do not cache the named stages (repeatable)" },
  "debug-cache": { kind: "bool", commands: BUILD, description: "Say why each step missed the cache (also KITBUILD_DEBUG_CACHE=1)" },
  "insecure-registry": { kind: "list", commands: CONVERT, description: "Reach this registry over plain HTTP (repeatable)" },
  "max-parallelism": { kind: "string", commands: BUILD, description: "How many steps run at once (default: no limit, as BuildKit)" },
  secret: { kind: "list", commands: BUILD, description: "A secret for RUN --mount=type=secret: id=ID,src=FILE or id=ID,env=VAR (repeatable)" },
  ssh: { kind: "list", commands: BUILD, description: "An ssh agent for RUN --mount=type=ssh: default or ID=SOCKET|KEYFILE (repeatable)" },
  allow: { kind: "list", commands: BUILD, description: "Grant an entitlement: security.insecure, network.host (repeatable)" },
  network: { kind: "string", commands: CONVERT, description: "Network of RUN steps without --network: default (a sandbox with outbound access), none, or host (needs --allow network.host)" },
  "add-host": { kind: "list", commands: CONVERT, description: "Add a line to the steps' /etc/hosts: NAME:IP or NAME=IP, IP may be host-gateway (repeatable)" },
  ulimit: { kind: "list", commands: CONVERT, description: "A resource limit of every RUN step, TYPE=SOFT[:HARD] with docker's names (nofile, nproc, core, stack, …; -1 unlimited; repeatable)" },
  "shm-size": { kind: "string", commands: CONVERT, description: "Size of /dev/shm in RUN steps, e.g. 128m or 1g (default 64m)" },
  call: { kind: "string", commands: BUILD, description: 'Set method for evaluating build ("check", "outline", "targets"; add ",format=json" for JSON)' },
  check: { kind: "bool", commands: BUILD, description: 'Shorthand for "--call=check": run the build checks without building' },
  annotation: { kind: "list", commands: BUILD, description: "Add an annotation to the image (repeatable): [TYPE[,TYPE]:]KEY=VALUE, TYPE manifest (default), index, manifest-descriptor, index-descriptor" },
  provenance: { kind: "optional", commands: BUILD, description: 'Shorthand for "--attest=type=provenance": true, false, mode=min|max[,builder-id=URL][,reproducible=true] (pushed images get mode=min unless false)' },
  sbom: { kind: "optional", commands: BUILD, description: 'Shorthand for "--attest=type=sbom": true or false (kitbuild generates the SPDX SBOM itself)' },
  attest: { kind: "list", commands: BUILD, description: "Attestation (repeatable): type=provenance[,mode=min|max,builder-id=URL,reproducible=true] or type=sbom; disabled=true turns one off" },
  platform: { kind: "list", commands: CONVERT, description: 'Target platform(s), OS/ARCH[/VARIANT] (comma-separated or repeatable; "local" is this machine\'s; default: the host\'s)' },
  format: { kind: "string", commands: ["debug llb"], description: "Output format: json (default) or dot" },
};

function flagsOf(command: FlagCommand): [string, FlagDef][] {
  return Object.entries(FLAGS).filter(([, f]) => f.commands.includes(command));
}

/** The forms of build's PATH (source/remote-context.ts). */
const CONTEXT_FORMS =
  "Build context: a directory; a git repository (https://host/org/repo.git#ref:subdir, git://host/repo#ref, github.com/org/repo); " +
  "a tarball or Dockerfile URL (https://host/ctx.tar.gz, https://host/Dockerfile); or - (stdin: a tar archive, plain or gzip/bzip2/xz/zstd, or a Dockerfile)";

/** citty's `args` for `command`: what its --help lists. */
export function helpArgs(command: FlagCommand): ArgsDef {
  const args: ArgsDef = { context: { type: "positional", description: command === "build" ? CONTEXT_FORMS : "Build context directory", required: false } };
  for (const [name, f] of flagsOf(command)) {
    if (f.hidden) continue;
    const alias = f.short === undefined ? {} : { alias: f.short };
    args[name] = { type: f.kind === "bool" ? "boolean" : "string", description: f.description, ...alias };
  }
  return args;
}

export const usageError = (command: FlagCommand, message: string, hint?: string) =>
  new KitError("E_USAGE", message, { hint: hint ?? `see kitbuild ${command} --help` });

/** What argv held for one command: each flag's values in order, and the positionals. */
export type ScannedFlags = {
  /** The last value of a string or bool flag. */
  str(name: string): string | undefined;
  /** Every value of a repeatable flag. */
  list(name: string): string[];
  bool(name: string): boolean;
  positionals: string[];
};

/**
 * Reads argv as pflag does: `--flag value`, `--flag=value`, `-f value`, `-fvalue`, `--bool`,
 * `--bool=false`, repeated flags, `--` to end the flags. A flag the command does not take is a
 * usage error, never ignored.
 */
export function scanFlags(command: FlagCommand, argv: readonly string[]): ScannedFlags {
  const specs = new Map(flagsOf(command));
  const usage = (message: string, hint?: string) => usageError(command, message, hint);
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
      const found = [...specs].find(([, s]) => s.short === short);
      if (!found) throw usage(`unknown shorthand flag: '${short}' in ${arg}`);
      name = found[0];
      const rest = arg.slice(2);
      inline = rest === "" ? undefined : rest.startsWith("=") ? rest.slice(1) : rest;
      if (found[1].kind === "bool" && rest !== "") throw usage(`unknown shorthand flag in ${arg}`);
    }
    const spec = specs.get(name);
    if (!spec) throw usage(`unknown flag: --${name}`, unknownHint(command, name));
    if (spec.kind === "bool") {
      if (inline !== undefined && !/^(true|false|1|0)$/i.test(inline)) throw usage(`invalid boolean value "${inline}" for --${name}`);
      set(name, inline === undefined ? "true" : /^(true|1)$/i.test(inline) ? "true" : "false");
      continue;
    }
    if (spec.kind === "optional") {
      set(name, inline ?? "true");
      continue;
    }
    if (inline === undefined) {
      if (i + 1 >= argv.length) throw usage(`flag needs an argument: --${name}`);
      inline = argv[++i] as string;
    }
    set(name, inline);
  }
  const str = (name: string) => values.get(name)?.at(-1);
  return {
    str,
    list: (name) => values.get(name) ?? [],
    bool: (name) => {
      const v = str(name);
      return v !== undefined && v !== "false";
    },
    positionals,
  };
}

/** A flag of another command (`debug llb --push`) says where it belongs. */
function unknownHint(command: FlagCommand, name: string): string | undefined {
  if (!Object.hasOwn(FLAGS, name)) return undefined;
  const owners = (FLAGS[name] as FlagDef).commands;
  return `--${name} is a flag of ${owners.map((c) => `kitbuild ${c}`).join(", ")}; see kitbuild ${command} --help`;
}
