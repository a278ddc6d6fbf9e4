// Dockerfile → build graph and image config. Only the stages the target needs enter the graph;
// their base images' configs are resolved (in parallel) before conversion, as BuildKit's
// "load metadata" steps do.
import { marshal, node, output, type Output } from "../../../llb/builder.ts";
import type { Definition, OpMetadata } from "../../../llb/ops.ts";
import { formatPlatform } from "../../../oci/platform.ts";
import type { ImageConfig, Platform } from "../../../oci/types.ts";
import { KitError } from "../../../util/errors.ts";
import { parseInstructions, InstructionError } from "../instructions/parse.ts";
import type { Command, Dockerfile, Location, Stage } from "../instructions/types.ts";
import { DockerfileParseError, parseDockerfile } from "../parser/parser.ts";
import { ShellLex, ShellError, envFromList } from "../shell/lex.ts";
import { type ArgScope, dispatchArg } from "./dispatch-config.ts";
import { dispatchCommand } from "./dispatch.ts";
import { baseImageConfig, scratchConfig } from "./image-config.ts";
import { countSteps, DEFAULT_PATH, expand, getEnv, setEnv, stepPrefix, type StageState } from "./state.ts";
import type { StepContext } from "./step-context.ts";

export type ImageMeta = {
  /** The reference pinned to its digest, e.g. "docker.io/library/busybox:latest@sha256:…". */
  ref: string;
  config: ImageConfig;
};

export type ConvertOptions = {
  source: string;
  filename: string;
  buildArgs: Record<string, string>;
  target: string | undefined;
  platform: Platform;
  buildPlatform: Platform;
  /** Patterns from .dockerignore, applied to the context source. */
  excludePatterns: string[];
  /** Stages whose steps skip the cache (--no-cache-filter). */
  noCacheStages: string[];
  resolveImage(ref: string, platform: Platform): Promise<ImageMeta>;
};

export type ConvertResult = { definition: Definition; image: ImageConfig; unusedBuildArgs: string[] };

export async function convertDockerfile(opts: ConvertOptions): Promise<ConvertResult> {
  const lines = opts.source.split("\n");
  const located = (e: unknown): never => {
    throw toKitError(e, opts.filename, lines);
  };
  let df: Dockerfile;
  try {
    df = parseInstructions(parseDockerfile(opts.source), lines);
  } catch (e) {
    return located(e);
  }
  const lex = new ShellLex(df.escapeToken);
  const usedBuildArgs = new Set<string>();
  const scope: ArgScope = { buildArgs: opts.buildArgs, globals: globalArgs(df, lex, opts, usedBuildArgs), usedBuildArgs };
  const globalEnv = envFromList([...scope.globals].map(([k, v]) => `${k}=${v}`));
  const stageNames = df.stages.map((st) => st.name);
  const baseNames = df.stages.map((st) => {
    try {
      return expand(lex, st.from.image, globalEnv);
    } catch (e) {
      return located(new InstructionError((e as Error).message, st.from.location));
    }
  });
  // A stage is found by name or index among the stages before `before` (the latest of a name wins).
  const findStage = (ref: string, before: number): number | undefined => {
    const name = ref.toLowerCase();
    for (let i = Math.min(before, stageNames.length) - 1; i >= 0; i--) if (stageNames[i] === name) return i;
    if (/^\d+$/.test(ref) && Number(ref) < Math.min(before, stageNames.length)) return Number(ref);
    return undefined;
  };
  const target = selectTarget(df, opts.target);
  const reachable = reachableStages(df, target, baseNames, findStage, lex, globalEnv);
  const images = await resolveImages(df, reachable, baseNames, findStage, lex, globalEnv, opts);
  const states: Array<StageState | undefined> = [];
  let contextOutput: Output | undefined;
  const meta = (name: string, location: Location): OpMetadata => ({
    name,
    location: { file: opts.filename, ranges: [{ start: location.startLine, end: location.endLine }] },
  });
  for (const index of [...reachable].sort((a, b) => a - b)) {
    const stage = df.stages[index] as Stage;
    const ctx: StepContext = {
      escapeToken: df.escapeToken,
      context: () => (contextOutput ??= localContext(opts.excludePatterns)),
      stage: (ref) => {
        const i = findStage(ref, index);
        return i === undefined ? undefined : states[i];
      },
      image: (ref) => imageOutput(images.get(ref) as ImageMeta, opts.platform, `[internal] ${ref}`),
      meta: (name, location) => ({ ...meta(name, location), ...(opts.noCacheStages.includes(stage.name ?? "") ? { ignoreCache: true } : {}) }),
      unsupported: (what, hint) => new KitError("E_DOCKERFILE_UNSUPPORTED", `${what} is not supported by this version of kitbuild`, { hint }),
    };
    try {
      states[index] = convertStage(df, stage, baseNames[index] as string, findStage, states, images, lex, scope, ctx, opts);
    } catch (e) {
      located(e);
    }
  }
  const final = states[target] as StageState;
  return {
    definition: marshal(final.output ?? scratchOutput()),
    image: final.image,
    unusedBuildArgs: Object.keys(opts.buildArgs).filter((k) => !scope.usedBuildArgs.has(k) && !PREDEFINED_ARGS.has(k)),
  };
}

const PREDEFINED_ARGS = new Set([
  "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
  "SOURCE_DATE_EPOCH",
]);

function platformArgs(opts: ConvertOptions): Map<string, string> {
  const t = opts.platform;
  const b = opts.buildPlatform;
  return new Map([
    ["TARGETPLATFORM", formatPlatform(t)], ["TARGETOS", t.os], ["TARGETARCH", t.architecture], ["TARGETVARIANT", t.variant ?? ""],
    ["BUILDPLATFORM", formatPlatform(b)], ["BUILDOS", b.os], ["BUILDARCH", b.architecture], ["BUILDVARIANT", b.variant ?? ""],
  ]);
}

/** The global scope: automatic platform ARGs, then the ARGs before the first FROM. */
function globalArgs(df: Dockerfile, lex: ShellLex, opts: ConvertOptions, used: Set<string>): Map<string, string> {
  const values = platformArgs(opts);
  for (const cmd of df.metaArgs) {
    for (const arg of cmd.args) {
      const env = envFromList([...values].map(([k, v]) => `${k}=${v}`));
      let value: string | undefined = opts.buildArgs[arg.key];
      if (value !== undefined) used.add(arg.key);
      if (value === undefined && arg.value !== undefined) {
        try {
          value = expand(lex, arg.value, env);
        } catch (e) {
          throw new InstructionError((e as Error).message, cmd.location);
        }
      }
      if (value !== undefined) values.set(arg.key, value);
    }
  }
  return values;
}

function selectTarget(df: Dockerfile, target: string | undefined): number {
  if (target === undefined || target === "") return df.stages.length - 1;
  const i = df.stages.findIndex((s) => s.name === target.toLowerCase());
  if (i < 0) {
    const names = df.stages.map((s) => s.name).filter(Boolean);
    throw new KitError("E_DOCKERFILE_TARGET", `target stage "${target}" could not be found`, {
      hint: names.length ? `stages in this Dockerfile: ${names.join(", ")}` : "no stage has a name; name one with FROM IMAGE AS NAME",
    });
  }
  return i;
}

type FindStage = (ref: string, before: number) => number | undefined;

/** Stage references of one stage: its FROM and COPY --from (expanded with the global ARGs). */
function stageRefs(stage: Stage, baseName: string, findStage: FindStage, lex: ShellLex, env: ReturnType<typeof envFromList>): Array<{ ref: string; stage: number | undefined; location: Location }> {
  const refs = [{ ref: baseName, stage: findStage(baseName, stage.index), location: stage.from.location }];
  for (const c of stage.commands) {
    if (c.kind !== "copy" || c.from === undefined) continue;
    const ref = safeExpand(lex, c.from, env);
    refs.push({ ref, stage: findStage(ref, stage.index), location: c.location });
    const later = findStage(ref, Number.MAX_SAFE_INTEGER);
    if (later !== undefined && later >= stage.index && findStage(ref, stage.index) === undefined) {
      const self = later === stage.index;
      throw new InstructionError(
        self ? `circular dependency detected on stage: ${ref}` : `cannot copy from stage "${ref}", it needs to be defined before current stage "${stage.name ?? stage.index}"`,
        c.location,
      );
    }
  }
  return refs;
}

function reachableStages(df: Dockerfile, target: number, baseNames: string[], findStage: FindStage, lex: ShellLex, env: ReturnType<typeof envFromList>): Set<number> {
  const seen = new Set<number>();
  const visit = (i: number) => {
    if (seen.has(i)) return;
    seen.add(i);
    const stage = df.stages[i] as Stage;
    if (baseNames[i]?.toLowerCase() === stage.name) {
      throw new InstructionError(`circular dependency detected on stage: ${stage.name}`, stage.from.location);
    }
    for (const r of stageRefs(stage, baseNames[i] as string, findStage, lex, env)) if (r.stage !== undefined) visit(r.stage);
  };
  visit(target);
  return seen;
}

async function resolveImages(df: Dockerfile, reachable: Set<number>, baseNames: string[], findStage: FindStage, lex: ShellLex, env: ReturnType<typeof envFromList>, opts: ConvertOptions): Promise<Map<string, ImageMeta>> {
  const refs = new Set<string>();
  for (const i of reachable) {
    for (const r of stageRefs(df.stages[i] as Stage, baseNames[i] as string, findStage, lex, env)) {
      if (r.stage === undefined && r.ref.toLowerCase() !== "scratch") refs.add(r.ref);
    }
  }
  const entries = await Promise.all([...refs].map(async (ref) => [ref, await opts.resolveImage(ref, opts.platform)] as const));
  return new Map(entries);
}

function convertStage(
  df: Dockerfile, stage: Stage, baseName: string, findStage: FindStage, states: Array<StageState | undefined>,
  images: Map<string, ImageMeta>, lex: ShellLex, scope: ArgScope, ctx: StepContext, opts: ConvertOptions,
): StageState {
  const baseIndex = findStage(baseName, stage.index);
  const base = baseIndex === undefined ? undefined : states[baseIndex];
  const isScratch = baseName.toLowerCase() === "scratch" && base === undefined;
  const img = base || isScratch ? undefined : images.get(baseName);
  const image = base ? structuredClone(base.image) : img ? baseImageConfig(img.config, opts.platform) : scratchConfig(opts.platform);
  const env = base ? [...base.env] : withDefaultPath(image.config.Env ?? []);
  if (!base && !getEnv(image.config.Env ?? [], "PATH")) image.config.Env = setEnv(image.config.Env ?? [], "PATH", DEFAULT_PATH.slice(5));
  const s: StageState = {
    stage,
    displayName: df.stages.length === 1 ? "" : (stage.name ?? `stage-${stage.index}`),
    output: base?.output,
    env,
    image,
    workdir: image.config.WorkingDir || "/",
    user: image.config.User ?? "",
    args: [],
    cmdIndex: 0,
    cmdTotal: countSteps(stage, img !== undefined),
    cmdSet: false,
  };
  if (img) {
    const name = `${stepPrefix(s)}FROM ${img.ref}`;
    s.output = imageOutput(img, opts.platform, name, ctx.meta(name, stage.from.location));
  }
  for (const cmd of stage.commands) dispatchOne(s, cmd, lex, scope, ctx);
  return s;
}

function dispatchOne(s: StageState, cmd: Command, lex: ShellLex, scope: ArgScope, ctx: StepContext): void {
  try {
    if (cmd.kind === "arg") dispatchArg(s, cmd, lex, scope);
    else dispatchCommand(s, cmd, lex, ctx);
  } catch (e) {
    if (e instanceof KitError && !e.location) {
      throw new InstructionError(e.message, cmd.location, e.hint, e.code.startsWith("E_DOCKERFILE_") ? (e.code as `E_DOCKERFILE_${string}`) : undefined);
    }
    if (e instanceof KitError || e instanceof InstructionError) throw e;
    throw new InstructionError(e instanceof Error ? e.message : String(e), cmd.location);
  }
}

function withDefaultPath(env: string[]): string[] {
  return getEnv(env, "PATH") === undefined ? [DEFAULT_PATH, ...env] : [...env];
}

function imageOutput(img: ImageMeta, platform: Platform, name: string, meta?: OpMetadata): Output {
  return output(node({ kind: "source", identifier: `docker-image://${img.ref}`, attrs: {}, platform }, [], meta ?? { name }));
}

function localContext(excludePatterns: string[]): Output {
  const attrs: Record<string, string> = {};
  if (excludePatterns.length > 0) attrs.excludepatterns = JSON.stringify(excludePatterns);
  return output(node({ kind: "source", identifier: "local://context", attrs }, [], { name: "[internal] load build context" }));
}

function scratchOutput(): Output {
  return output(node({ kind: "file", base: -1, actions: [] }, [], { name: "[internal] scratch" }));
}

function safeExpand(lex: ShellLex, word: string, env: ReturnType<typeof envFromList>): string {
  try {
    return expand(lex, word, env);
  } catch {
    return word;
  }
}

/** Parse, instruction and expansion errors as KitErrors that point at the Dockerfile line. */
function toKitError(e: unknown, file: string, lines: string[]): KitError {
  const at = (start: number, end: number) => ({ file, startLine: start, endLine: end, lines });
  if (e instanceof DockerfileParseError) {
    return new KitError("E_DOCKERFILE_PARSE", `${file}:${e.startLine}: ${lowerFirst(e.message)}`, { location: at(e.startLine, e.endLine), hint: "fix the syntax on this line" });
  }
  if (e instanceof InstructionError) {
    return new KitError(e.code ?? "E_DOCKERFILE_INVALID", lowerFirst(e.message), { location: at(e.location.startLine, e.location.endLine), hint: e.hint });
  }
  if (e instanceof ShellError) return new KitError("E_DOCKERFILE_EXPANSION", lowerFirst(e.message));
  if (e instanceof KitError) return e;
  return new KitError("E_DOCKERFILE_INVALID", lowerFirst(e instanceof Error ? e.message : String(e)));
}

function lowerFirst(s: string): string {
  return s.length > 1 && /^[A-Z][a-z]/.test(s) ? s[0]?.toLowerCase() + s.slice(1) : s;
}
