// Before any instruction is converted: the base images of the stages the target needs are
// resolved (in parallel, as BuildKit's "load metadata" steps), and ONBUILD triggers of those
// images (or of base stages) are parsed into the stages that inherit them, which may pull in
// more stages, so this repeats until nothing new is needed.
import { node, output } from "../../../llb/builder.ts";
import type { OpMetadata } from "../../../llb/ops.ts";
import type { ImageConfig, Platform } from "../../../oci/types.ts";
import { KitError, type SourceLocation } from "../../../util/errors.ts";
import { parseInstruction } from "../instructions/parse.ts";
import { InstructionError } from "../instructions/request.ts";
import { closest } from "../instructions/suggest.ts";
import type { Location } from "../instructions/types.ts";
import { parseDockerfile } from "../parser/parser.ts";
import type { ShellLex } from "../shell/lex.ts";
import { baseImageConfig, isEmptyImage, scratchConfig } from "./image-config.ts";
import { contextState, findNamedContext, type NamedContexts } from "./named-context.ts";
import { addSources, reachableFrom, type StageSet } from "./stages.ts";
import { stepPrefix, type CommandEntry, type StageState } from "./state.ts";

export type ImageMeta = {
  /** The reference pinned to its digest, e.g. "docker.io/library/busybox:latest@sha256:…". */
  ref: string;
  config: ImageConfig;
};

export type ResolveOptions = {
  lex: ShellLex;
  targetPlatform: Platform;
  resolveImage(ref: string, platform: Platform): Promise<ImageMeta>;
  /** --build-context: what FROM NAME, COPY --from=NAME and stages named NAME read instead. */
  namedContexts?: NamedContexts | undefined;
  meta(name: string, location: Location): OpMetadata;
  /** A Dockerfile location as an error's source location (with the lines for a code frame). */
  sourceLocation(location: Location): SourceLocation;
};

/** Resolves what the target needs; returns the stages it reaches. */
export async function resolveStages(set: StageSet, target: StageState, options: ResolveOptions): Promise<Set<StageState>> {
  // Stages FROM the same image resolve it once.
  const resolved = new Map<string, Promise<ImageMeta>>();
  const opts: ResolveOptions = {
    ...options,
    resolveImage: (ref, platform) => {
      const key = JSON.stringify([ref, platform]);
      let p = resolved.get(key);
      if (!p) resolved.set(key, (p = options.resolveImage(ref, platform)));
      return p;
    },
  };
  for (;;) {
    const reachable = reachableFrom(target);
    await resolveBaseImages(set, reachable, opts);
    let newDeps = false;
    for (const s of reachable) {
      inheritFromBase(s);
      const triggers = [...(s.image.config.OnBuild ?? [])];
      if (s.base && !s.onBuildInit) {
        for (const e of s.base.commands) if (e.cmd.kind === "onbuild") triggers.push(e.cmd.expression);
        s.onBuildInit = true;
      }
      if (triggers.length === 0) continue;
      if (addTriggers(set, s, triggers, opts.lex)) newDeps = true;
      delete s.image.config.OnBuild;
    }
    if (!newDeps) return reachable;
  }
}

/** A stage FROM another stage starts with that stage's filesystem, metadata and ARGs. */
export function inheritFromBase(s: StageState): void {
  const base = s.base;
  if (!base) return;
  s.output = base.output;
  s.platform = base.platform;
  s.image = structuredClone(base.image);
  // ONBUILD triggers do not carry over from a base stage.
  delete s.image.config.OnBuild;
  s.env = base.env.clone();
  s.workdir = base.workdir;
  s.user = base.user;
  s.buildArgs = [...base.buildArgs];
}

async function resolveBaseImages(set: StageSet, reachable: Set<StageState>, opts: ResolveOptions): Promise<void> {
  const pending: Array<Promise<void>> = [];
  for (const s of set.states) {
    if (s.base || s.dispatched || s.resolved) continue;
    s.resolved = reachable.has(s);
    if (s.baseName === "scratch" && !set.replaced.has(s)) {
      s.output = undefined;
      s.image = scratchConfig(opts.targetPlatform);
      s.platform = opts.targetPlatform;
      if (s.unregistered) s.dispatched = true;
      continue;
    }
    if (s.resolved) pending.push(resolveImage(set, s, opts));
  }
  const results = await Promise.allSettled(pending);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}

async function resolveImage(set: StageSet, s: StageState, opts: ResolveOptions): Promise<void> {
  const location = s.stage.from.location;
  const platform = s.platform ?? opts.targetPlatform;
  const replacedBy = set.replaced.get(s);
  const named = replacedBy ?? findNamedContext(opts.namedContexts, s.baseName);
  if (named !== undefined && opts.namedContexts) {
    await useNamedContext(s, named, replacedBy !== undefined, platform, opts.namedContexts, opts.sourceLocation(location));
    return;
  }
  let img: ImageMeta;
  try {
    img = await opts.resolveImage(s.baseName, platform);
  } catch (e) {
    throw resolveError(e, s.baseName, set.names(), opts.sourceLocation(location));
  }
  s.image = baseImageConfig(img.config);
  s.platform = platform;
  if (!isEmptyImage(img.config)) {
    const name = `${stepPrefix(s, false)}FROM ${img.ref}`;
    const op = { kind: "source" as const, identifier: `docker-image://${img.ref}`, attrs: {}, platform };
    s.output = output(node(op, [], s.unregistered ? { name } : opts.meta(name, location)));
  }
  if (s.unregistered) s.dispatched = true;
}

/**
 * A stage (or a COPY --from image) that reads a named context. A stage the context replaces is
 * done (BuildKit marks it dispatched); a stage FROM it starts from its filesystem and config
 * (scratch's config when it has none).
 */
async function useNamedContext(s: StageState, key: string, replaces: boolean, platform: Platform, contexts: NamedContexts, location: SourceLocation): Promise<void> {
  let state;
  try {
    state = contextState(key, await contexts.load(key, platform), platform, s.unregistered);
  } catch (e) {
    if (e instanceof KitError) throw e.location ? e : e.withLocation(location);
    throw new KitError("E_DOCKERFILE_NAMED_CONTEXT", `failed to load build context "${key}": ${e instanceof Error ? e.message : String(e)}`, { location, cause: e });
  }
  s.output = state.output;
  if (replaces) {
    s.dispatched = true;
    // A context without an image config (a directory, a repository) leaves the stage's empty one,
    // as BuildKit does, with the platform filled in so that an exported image names one.
    s.image = state.image ?? { ...s.image, architecture: platform.architecture, os: platform.os };
    s.platform = state.platform ?? platform;
    return;
  }
  s.image = state.image ?? scratchConfig(platform);
  s.platform = platform;
  if (s.unregistered) s.dispatched = true;
}

/** A failed resolution at its FROM line; a name close to a stage's suggests the stage. */
function resolveError(e: unknown, ref: string, stages: string[], location: SourceLocation): KitError {
  const near = closest(ref, stages, true);
  const hint = near ? `did you mean the stage "${near}"?` : undefined;
  if (e instanceof KitError) return new KitError(e.code, e.message, { hint: hint ?? e.hint, location: e.location ?? location, cause: e.cause, details: e.details });
  return new KitError("E_DOCKERFILE_BASE_IMAGE", `failed to resolve "${ref}": ${e instanceof Error ? e.message : String(e)}`, { hint, location, cause: e });
}

/** Parses ONBUILD triggers into commands that run first in `s`; returns whether they read other stages. */
function addTriggers(set: StageSet, s: StageState, triggers: readonly string[], lex: ShellLex): boolean {
  const location = s.stage.from.location;
  const entries: CommandEntry[] = [];
  let newDeps = false;
  for (const trigger of triggers) {
    const entry = parseTrigger(trigger, location);
    try {
      if (addSources(set, s, entry, lex)) newDeps = true;
    } catch (e) {
      throw relocate(e, location);
    }
    entries.push(entry);
  }
  s.commands = [...entries, ...s.commands];
  s.cmdTotal += entries.length;
  return newDeps;
}

function parseTrigger(trigger: string, location: Location): CommandEntry {
  try {
    const children = parseDockerfile(trigger).ast.children;
    if (children.length !== 1) throw new Error("onbuild trigger should be a single expression");
    const n = children[0] as (typeof children)[number];
    n.startLine = location.startLine;
    n.endLine = location.endLine;
    const cmd = parseInstruction(n);
    if (cmd.kind === "from") throw new Error(`FROM isn't allowed as an ONBUILD trigger`);
    return { cmd, sources: [], isOnBuild: true };
  } catch (e) {
    throw relocate(e, location);
  }
}

function relocate(e: unknown, location: Location): InstructionError {
  const message = e instanceof Error ? e.message : String(e);
  const hint = e instanceof InstructionError ? e.hint : undefined;
  return new InstructionError(`failed to run ONBUILD trigger: ${message}`, location, hint);
}
