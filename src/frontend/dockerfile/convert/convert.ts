// Dockerfile → build graph and image config, as BuildKit's dockerfile2llb does it: parse, expand
// the global ARGs, find the stages the target needs (nothing else is resolved or converted),
// resolve their base images and ONBUILD triggers, convert each needed stage in order, and return
// the target's graph and image config.
import { marshal, node, output, type Output } from "../../../llb/builder.ts";
import type { Definition, OpMetadata, SourceOp } from "../../../llb/ops.ts";
import type { ImageConfig, Platform } from "../../../oci/types.ts";
import { KitError, type SourceLocation } from "../../../util/errors.ts";
import { parseInstructions } from "../instructions/parse.ts";
import { InstructionError } from "../instructions/request.ts";
import type { Location } from "../instructions/types.ts";
import { DockerfileParseError, parseDockerfile } from "../parser/parser.ts";
import { ShellError, ShellLex } from "../shell/lex.ts";
import { defaultArgs, globalArgs, isPredefinedArg, proxyEnv, sourceDateEpoch } from "./args.ts";
import { dispatchEntry } from "./dispatch.ts";
import type { DispatchContext } from "./dispatch-context.ts";
import { inheritWorkdir } from "./dispatch-workdir.ts";
import { type ImageMeta, inheritFromBase, resolveStages } from "./resolve.ts";
import { createStates, findTarget, linkDependencies, type StageSet } from "./stages.ts";
import { DEFAULT_PATH, type StageState } from "./state.ts";
import { normalizedImagePlatform, withTargetPlatform } from "./image-config.ts";
import { EnvList } from "./env-list.ts";
import type { NamedContexts } from "./named-context.ts";
import { type BuiltStage, builtStages } from "./sbom-scan.ts";

export type { ImageMeta } from "./resolve.ts";

export type ConvertOptions = {
  source: string;
  filename: string;
  buildArgs: Record<string, string>;
  target: string | undefined;
  platform: Platform;
  buildPlatform: Platform;
  /** Patterns from .dockerignore, applied to the context source. */
  excludePatterns: string[];
  /** Stages whose RUN, COPY and ADD steps skip the cache (--no-cache-filter). */
  noCacheStages: string[];
  /** The build's --network: the mode of every RUN without --network (BuildKit's force-network-mode). */
  forceNetwork?: "host" | "none";
  /** The build's --add-host entries (addresses resolved), in every RUN's /etc/hosts. */
  extraHosts?: Array<{ host: string; ip: string }>;
  /** The build's --ulimit and --shm-size, set on every RUN (BuildKit's ulimit and shm-size frontend options). */
  ulimits?: Array<{ name: string; soft: number; hard: number }>;
  shmSize?: number;
  resolveImage(ref: string, platform: Platform): Promise<ImageMeta>;
  /** --build-context NAME=…: read by stages named NAME, FROM NAME and COPY --from=NAME. */
  namedContexts?: NamedContexts;
  /** Several platforms are built: step names start with their platform, as BuildKit's. */
  multiPlatform?: boolean;
  /** --platform named the target platform: the image config says it whatever the base's (BuildKit's explicit target). */
  explicitPlatform?: boolean;
};

export type ConvertResult = {
  definition: Definition;
  image: ImageConfig;
  unusedBuildArgs: string[];
  /** The other stages built for the target, for SBOM stage scans (sbom-scan.ts). */
  stages: BuiltStage[];
  /** SOURCE_DATE_EPOCH in seconds, for the exporters to clamp timestamps with. */
  epoch: number | undefined;
};

export async function convertDockerfile(opts: ConvertOptions): Promise<ConvertResult> {
  const lines = opts.source.split("\n");
  const at = (loc: Location): SourceLocation => ({ file: opts.filename, startLine: loc.startLine, endLine: loc.endLine, lines });
  try {
    return await convert(opts, at);
  } catch (e) {
    throw toKitError(e, opts.filename, at);
  }
}

async function convert(opts: ConvertOptions, at: (loc: Location) => SourceLocation): Promise<ConvertResult> {
  if (opts.source.length === 0) throw new KitError("E_DOCKERFILE_EMPTY", "the Dockerfile cannot be empty", { hint: "start it with FROM IMAGE" });
  const df = parseInstructions(parseDockerfile(opts.source), opts.source.split("\n"));
  const lex = new ShellLex(df.escapeToken);
  const buildArgs = { ...opts.buildArgs };
  const usedBuildArgs = new Set<string>();
  const lastName = df.stages.at(-1)?.name ?? "";
  const defaults = defaultArgs(opts.buildPlatform, opts.platform, opts.target || lastName, buildArgs);
  const globals = globalArgs(defaults, df.metaArgs, lex, buildArgs, usedBuildArgs);
  const epoch = sourceDateEpoch(buildArgs, globals);
  const set = createStates(df.stages, { globals: globals.getter(), lex, noCacheStages: opts.noCacheStages, namedContexts: opts.namedContexts });
  if (opts.multiPlatform) for (const s of set.states) s.prefixPlatform = true;
  const target = findTarget(set, opts.target);
  linkDependencies(set, lex);
  const meta = (name: string, location: Location, ignoreCache = false): OpMetadata => ({
    name,
    location: { file: opts.filename, ranges: [{ start: location.startLine, end: location.endLine }] },
    ...(ignoreCache ? { ignoreCache: true } : {}),
  });
  const reachable = await resolveStages(set, target, { lex, targetPlatform: opts.platform, resolveImage: opts.resolveImage, namedContexts: opts.namedContexts, meta, sourceLocation: at });
  let context: { node: Output; op: SourceOp } | undefined;
  const ctx: DispatchContext = {
    escapeToken: df.escapeToken,
    lex,
    globalArgs: globals.getter(),
    buildArgs,
    usedBuildArgs,
    proxyEnv: proxyEnv(buildArgs),
    epoch,
    targetPlatform: opts.platform,
    defaultNetwork: opts.forceNetwork ?? "sandbox",
    extraHosts: opts.extraHosts ?? [],
    ulimits: opts.ulimits ?? [],
    shmSize: opts.shmSize,
    buildContext: () => (context ??= localContext(opts.excludePatterns)).node,
    meta,
  };
  dispatchStages(set, reachable, ctx);
  if (context) limitContext(context.op, reachable);
  return {
    definition: marshal(target.output ?? scratchOutput()),
    image: normalizedImagePlatform(opts.explicitPlatform ? withTargetPlatform(target.image, opts.platform) : target.image),
    unusedBuildArgs: Object.keys(opts.buildArgs).filter((k) => !usedBuildArgs.has(k) && !isPredefinedArg(k)),
    stages: builtStages(set.states, reachable, target, globals.getter(), opts.buildArgs),
    epoch,
  };
}

/** Converts each needed stage in Dockerfile order (a stage only reads stages before it). */
function dispatchStages(set: StageSet, reachable: Set<StageState>, ctx: DispatchContext): void {
  for (const s of set.states) {
    if (!reachable.has(s) || s.dispatched) continue;
    inheritFromBase(s);
    s.dispatched = true;
    s.platform ??= ctx.targetPlatform;
    // PATH is always set (except on Windows, which has its own).
    const hadEnv = s.image.config.Env !== undefined;
    s.configEnv = new EnvList("in-place", s.image.config.Env ?? []);
    if (s.configEnv.get("PATH") === undefined && s.platform.os !== "windows") s.configEnv.set("PATH", DEFAULT_PATH);
    for (const e of s.configEnv.list()) {
      const eq = e.indexOf("=");
      s.env.set(eq < 0 ? e : e.slice(0, eq), eq < 0 ? "" : e.slice(eq + 1));
    }
    inheritWorkdir(s);
    if (s.image.config.User) s.user = s.image.config.User;
    for (const entry of s.commands) dispatchEntry(s, entry, ctx);
    // Written once, when the stage is done: a stage FROM this one and the exporter read it after.
    if (hadEnv || s.configEnv.list().length > 0) s.image.config.Env = s.configEnv.list();
  }
}

function localContext(excludePatterns: string[]): { node: Output; op: SourceOp } {
  const op: SourceOp = { kind: "source", identifier: "local://context", attrs: {} };
  if (excludePatterns.length > 0) op.attrs.excludepatterns = JSON.stringify(excludePatterns);
  return { node: output(node(op, [], { name: "[internal] load build context" })), op };
}

/** Limits the context source to the paths the build reads, unless some step reads all of it. */
function limitContext(op: SourceOp, reachable: Set<StageState>): void {
  const paths = new Set<string>();
  for (const s of reachable) for (const p of s.ctxPaths) paths.add(p);
  if (paths.size === 0 || paths.has("/")) return;
  op.attrs.followpaths = JSON.stringify([...paths].map((p) => p.replace(/^\/+/, "")).sort());
}

function scratchOutput(): Output {
  return output(node({ kind: "file", base: -1, actions: [] }, [], { name: "[internal] scratch" }));
}

/** Parse, instruction and expansion errors as KitErrors that point at the Dockerfile lines (also for --call). */
export function toKitError(e: unknown, file: string, at: (loc: Location) => SourceLocation): KitError {
  if (e instanceof DockerfileParseError) {
    return new KitError("E_DOCKERFILE_PARSE", `dockerfile parse error on line ${e.startLine}: ${lowerFirst(e.message)}`, {
      location: at({ startLine: e.startLine, endLine: e.endLine }),
      hint: "fix the syntax on this line",
    });
  }
  if (e instanceof InstructionError) {
    const code = e.code ?? "E_DOCKERFILE_INVALID";
    const location = e.location.startLine > 0 ? at(e.location) : undefined;
    return new KitError(code, lowerFirst(e.message), { location, hint: e.hint ?? defaultHint(code) });
  }
  if (e instanceof ShellError) return new KitError("E_DOCKERFILE_EXPANSION", lowerFirst(e.message), { hint: defaultHint("E_DOCKERFILE_EXPANSION") });
  if (e instanceof KitError) return e;
  return new KitError("E_DOCKERFILE_INVALID", `${file}: ${lowerFirst(e instanceof Error ? e.message : String(e))}`);
}

function defaultHint(code: string): string {
  if (code === "E_DOCKERFILE_EXPANSION") return "check the ${…} expression: quotes must be closed and ${VAR:?message} requires VAR to be set";
  return "fix the instruction on the marked line (see the Dockerfile reference)";
}

function lowerFirst(s: string): string {
  return s.length > 1 && /^[A-Z][a-z]/.test(s) ? `${(s[0] as string).toLowerCase()}${s.slice(1)}` : s;
}
