// The flags of `kitbuild build` and `kitbuild debug` turned into the groups of a build request
// (control/request.ts), plus what only the command uses (the progress mode, the --format of debug
// llb). The flags themselves are declared and scanned in build-flag-table.ts.
import { parseBuildContexts } from "../control/named-contexts.ts";
import { parsePlatformFlag } from "../control/platform-flag.ts";
import type { CallKind } from "../control/checks.ts";
import type { BuildRequest, DebugRequest, FrontendAttrs, RegistryOptions } from "../control/request.ts";
import { type FlagCommand, type ScannedFlags, scanFlags, usageError } from "./build-flag-table.ts";
import { applyAnnotations, checkIndexAnnotations } from "./annotation-flags.ts";
import { parseAttestations } from "./attest-flags.ts";
import { parseCacheFlags } from "./cache-flags.ts";
import { parseOutputs, splitCsv } from "./output-flags.ts";
import { parseEntitlement, parseExtraHost, parseNetwork, parseSecret, parseShmSize, parseSsh, parseUlimit } from "./run-flags.ts";
import { storeOutput } from "../exporter/store-exporter.ts";

export type ProgressMode = "auto" | "tty" | "plain" | "rawjson" | "quiet" | "none";

/** The command fills in what the caller's process provides (env, config, stdout). */
export type BuildFlags = Omit<BuildRequest, "env" | "config" | "stdout"> & {
  progress: ProgressMode;
  /** -f -: the command reads the Dockerfile from stdin (see withDockerfileText). */
  dockerfileOnStdin: boolean;
  /** --call / --check: answer a frontend call instead of building (undefined: build). */
  call: CallFlag | undefined;
  /** -q: print the image ID on stdout at the end, as buildx does. */
  printImageId: boolean;
};

export type DebugFlags = Pick<DebugRequest, "frontend" | "registry"> & {
  /** debug llb's --format (json for debug image-config, which takes none). */
  format: "json" | "dot";
  dockerfileOnStdin: boolean;
};

const usage = (message: string, hint?: string) => usageError("build", message, hint);

export function parseBuildFlags(argv: readonly string[], env: Record<string, string | undefined>): BuildFlags {
  const flags = scanFlags("build", argv);
  const { str, list, bool } = flags;
  const contextDir = contextArg("build", flags);
  const progress = progressMode(bool("quiet"), str("progress"));
  if (!["auto", "tty", "plain", "rawjson", "quiet", "none"].includes(progress)) {
    throw usage(`invalid --progress "${progress}"`, "use one of auto, tty, plain, rawjson, quiet, none");
  }
  const outputs = parseOutputs({ outputs: list("output"), tags: list("tag"), push: bool("push"), load: bool("load") });
  // -t alone keeps the image in kitbuild's image store, as docker build does; -q or --iidfile alone
  // keeps it untagged, so the ID they give names an image.
  if (outputs.length === 0 && (list("tag").length > 0 || bool("quiet") || str("iidfile"))) outputs.push(storeOutput(list("tag")));
  applyAnnotations(outputs, list("annotation"));
  const attest = parseAttestations({ attest: list("attest"), provenance: str("provenance"), sbom: str("sbom") }, outputs, env);
  checkIndexAnnotations(outputs, attest, parsePlatformFlag(list("platform"))?.length);
  const toStdout = outputs.some((o) => "dest" in o && o.dest === "-") || str("metadata-file") === "-" || str("iidfile") === "-";
  if (progress === "rawjson" && toStdout) throw usage("--progress=rawjson and an output to stdout both need stdout");
  const maxParallelism = str("max-parallelism");
  if (maxParallelism !== undefined && !/^[1-9]\d*$/.test(maxParallelism)) throw usage(`--max-parallelism must be a positive number, got "${maxParallelism}"`);
  const frontend = frontendAttrs(contextDir, flags, env);
  if (bool("pull")) frontend.pull = true;
  // buildx with the docker driver refuses this too: docker load takes one image, not an index.
  if ((frontend.platforms?.length ?? 0) > 1 && outputs.some((o) => o.type === "docker" && o.load)) {
    throw usage("docker exporter does not currently support exporting manifest lists", "--load takes one platform: build each platform with its own --load, or write the index with --push or -o type=oci,dest=FILE");
  }
  const cacheExports = parseCacheFlags(list("cache-to"), "to");
  // buildx's older spelling of --cache-to type=inline.
  const inlineArg = frontend.buildArgs.BUILDKIT_INLINE_CACHE;
  if (inlineArg !== undefined) {
    delete frontend.buildArgs.BUILDKIT_INLINE_CACHE;
    if (/^(1|true)$/i.test(inlineArg) && !cacheExports.some((c) => c.type === "inline")) cacheExports.push({ type: "inline", attrs: {} });
  }
  return {
    frontend,
    exports: {
      outputs, labels: parseLabels(list("label")), iidFile: str("iidfile"), metadataFile: str("metadata-file"),
      attest,
    },
    cacheImports: parseCacheFlags(list("cache-from"), "from"),
    cacheExports,
    session: {
      secrets: list("secret").map(parseSecret),
      ssh: list("ssh").map(parseSsh),
      allow: list("allow").flatMap((v) => v.split(",")).filter(Boolean).map(parseEntitlement),
    },
    solve: {
      noCache: bool("no-cache"),
      // No limit unless asked, as BuildKit: a step that waits (sleep, the network) holds no CPU, and
      // a limit of the CPU count kept CPU-bound steps queued behind it (issue 19's B1).
      maxParallelism: maxParallelism === undefined ? Number.POSITIVE_INFINITY : Number(maxParallelism),
      debugCache: bool("debug-cache"),
    },
    registry: registryOptions(flags),
    progress: progress as ProgressMode,
    dockerfileOnStdin: str("file") === "-",
    call: bool("check") ? { name: "check", format: "text", ignoreStatus: false } : parseCall(str("call")),
    printImageId: bool("quiet"),
  };
}

/**
 * -q is --progress=quiet (buildx: quiet also prints the image ID at the end); none is buildx's
 * progress without that. -q with another mode is an error, as in buildx.
 */
function progressMode(quiet: boolean, mode: string | undefined): string {
  if (!quiet) return mode ?? "auto";
  if (mode !== undefined && mode !== "auto" && mode !== "quiet" && mode !== "none") throw usage(`progress=${mode} and quiet cannot be used together`, "drop -q, or use --progress=quiet");
  return "quiet";
}

export type CallFlag = { name: CallKind; format: "text" | "json"; ignoreStatus: boolean };

/** `NAME[,format=json][,ignorestatus=true]`, as buildx's ParseCallFunc reads --call ("lint" and "check" are one). */
function parseCall(value: string | undefined): CallFlag | undefined {
  if (value === undefined || value === "") return undefined;
  let name: string | undefined;
  const out: CallFlag = { name: "check", format: "text", ignoreStatus: false };
  for (const field of splitCsv(value)) {
    const eq = field.indexOf("=");
    if (eq < 0) {
      if (name !== undefined) throw usage(`invalid print value: ${value}`, 'use --call=check, --call=outline or --call=targets, with ",format=json" for JSON');
      name = field;
      continue;
    }
    const [key, v] = [field.slice(0, eq), field.slice(eq + 1)];
    if (key === "format") {
      if (v !== "json" && v !== "text" && v !== "") throw usage(`invalid --call format "${v}"`, "use format=json (text is the default)");
      out.format = v === "json" ? "json" : "text";
    } else if (key === "ignorestatus") {
      if (!/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(v)) throw usage(`invalid ignorestatus print value: ${v}`);
      out.ignoreStatus = /^(1|t|T|TRUE|true|True)$/.test(v);
    } else throw usage(`invalid print field: ${field}`, "the fields of --call are format= and ignorestatus=");
  }
  if (name === undefined || name === "build") return undefined;
  if (name === "lint") name = "check";
  if (name !== "check" && name !== "outline" && name !== "targets") {
    throw usage(`unsupported --call "${name}"`, "kitbuild answers --call=build (the default), check, outline and targets");
  }
  return { ...out, name };
}

export function parseDebugFlags(command: "debug llb" | "debug image-config", argv: readonly string[], env: Record<string, string | undefined>): DebugFlags {
  const flags = scanFlags(command, argv);
  const format = flags.str("format") ?? "json";
  if (format !== "json" && format !== "dot") {
    throw usageError(command, `invalid --format "${format}"`, "use --format json or --format dot");
  }
  return { frontend: frontendAttrs(contextArg(command, flags), flags, env), registry: registryOptions(flags), format, dockerfileOnStdin: flags.str("file") === "-" };
}

/**
 * -f -: the Dockerfile's text, read by the command so that parsing stays synchronous. A context of
 * "-" gets stdin's bytes instead (a tar archive, or a Dockerfile: see source/remote-context.ts).
 */
export async function withDockerfileText(frontend: FrontendAttrs, onStdin: boolean): Promise<FrontendAttrs> {
  if (frontend.contextDir === "-") return { ...frontend, contextStdin: Bun.stdin.stream() };
  return onStdin ? { ...frontend, dockerfileText: await Bun.stdin.text() } : frontend;
}

/**
 * The one positional: the build context (checked before any flag's value): a directory, a git or
 * http(s) URL, or "-" for stdin, which cannot also carry the Dockerfile (buildx's rule).
 */
function contextArg(command: FlagCommand, { positionals, str }: ScannedFlags): string {
  if (positionals.length !== 1) {
    const example = command === "build" ? "kitbuild ." : `kitbuild ${command} .`;
    throw usageError(command, positionals.length === 0 ? "a build context is required" : `expected one build context, got ${positionals.length}: ${positionals.join(" ")}`, `usage: kitbuild ${command} [OPTIONS] PATH | URL | - (for example: ${example})`);
  }
  const context = positionals[0] as string;
  if (context === "-" && str("file") === "-") {
    throw usageError(command, "invalid argument: can't use stdin for both build context and dockerfile", "give the Dockerfile with -f PATH inside the archive, or pipe only the Dockerfile (kitbuild build - < Dockerfile)");
  }
  return context;
}

function frontendAttrs(contextDir: string, { str, list }: ScannedFlags, env: Record<string, string | undefined>): FrontendAttrs {
  const file = str("file");
  const forceNetwork = parseNetwork(str("network"));
  const extraHosts = list("add-host").map(parseExtraHost);
  const namedContexts = parseBuildContexts(list("build-context"));
  // A repeated TYPE replaces the earlier one, as docker's map of ulimits.
  const ulimits = [...new Map(list("ulimit").map(parseUlimit).map((u) => [u.name, u] as const)).values()];
  const shmSize = parseShmSize(str("shm-size"));
  const platforms = parsePlatformFlag(list("platform"));
  return {
    ...(platforms ? { platforms } : {}),
    ...(ulimits.length > 0 ? { ulimits } : {}),
    ...(shmSize ? { shmSize } : {}),
    ...(Object.keys(namedContexts).length > 0 ? { namedContexts } : {}),
    ...(forceNetwork ? { forceNetwork } : {}),
    ...(extraHosts.length > 0 ? { extraHosts } : {}),
    contextDir,
    dockerfilePath: file === "-" ? undefined : file,
    dockerfileText: undefined,
    buildArgs: parseBuildArgs(list("build-arg"), env),
    target: str("target"),
    noCacheFilter: list("no-cache-filter").flatMap((v) => v.split(",")).filter(Boolean),
  };
}

function registryOptions(flags: ScannedFlags): RegistryOptions {
  return { insecureRegistries: flags.list("insecure-registry") };
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
  // buildx passes a non-empty SOURCE_DATE_EPOCH from its environment as a build arg unless one is
  // given (docker/buildx build/opt.go), so the Dockerfile's ARG SOURCE_DATE_EPOCH sees it too.
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch && !Object.hasOwn(out, "SOURCE_DATE_EPOCH")) out.SOURCE_DATE_EPOCH = epoch;
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
