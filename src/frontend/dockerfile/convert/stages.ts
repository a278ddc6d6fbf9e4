// The build's stages and how they depend on each other (BuildKit's dispatch states): FROM names
// expanded with the global ARGs, stages found by name or index, images named by COPY --from or
// RUN --mount from= as states of their own, circular dependencies refused, and the set of stages
// a target needs.
import { parsePlatform } from "../../../oci/platform.ts";
import type { Platform } from "../../../oci/types.ts";
import { KitError } from "../../../util/errors.ts";
import { parseMount } from "../instructions/mount.ts";
import { InstructionError } from "../instructions/request.ts";
import { closest } from "../instructions/suggest.ts";
import type { Command, Location, Stage } from "../instructions/types.ts";
import { envFromList, type EnvGetter, type ShellLex } from "../shell/lex.ts";
import { EnvList } from "./env-list.ts";
import { findNamedContext, type NamedContexts } from "./named-context.ts";
import type { CommandEntry, StageState } from "./state.ts";

export class StageSet {
  readonly states: StageState[] = [];
  private readonly byName = new Map<string, StageState>();
  /** Stages replaced by the named context of their name (--build-context NAME=…), with its key. */
  readonly replaced = new Map<StageState, string>();

  /** Adds a state; a FROM naming an earlier stage makes that stage its base. */
  add(s: StageState): void {
    s.index = this.states.length;
    this.states.push(s);
    s.base = this.byName.get(s.baseName);
    if (s.stage.name) this.byName.set(s.stage.name.toLowerCase(), s);
  }

  named(name: string): StageState | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** A stage by index, as COPY --from=0 names it. */
  indexed(text: string, location: Location): StageState {
    const i = Number(text);
    const found = this.states[i];
    if (!found) throw new InstructionError(`invalid stage index ${i}`, location, `stages are numbered from 0 to ${this.states.length - 1}`);
    return found;
  }

  names(): string[] {
    return this.states.map((s) => s.stage.name).filter((n): n is string => n !== undefined);
  }
}

function newState(stage: Stage, baseName: string, unregistered: boolean): StageState {
  return {
    index: 0, stage, baseName, stageName: unregistered ? "" : (stage.name ?? `stage-${stage.index}`), unregistered, base: undefined,
    deps: new Map(), commands: stage.commands.map((cmd) => ({ cmd, sources: [], isOnBuild: false })), platform: undefined,
    resolved: false, dispatched: false, onBuildInit: false, ignoreCache: false, output: undefined, env: new EnvList("move-to-end"), configEnv: new EnvList("in-place"),
    image: { architecture: "", os: "", config: {}, rootfs: { type: "layers", diff_ids: [] } }, workdir: "/", user: "",
    buildArgs: [], cmdIndex: 0, cmdTotal: 0, cmdIsOnBuild: false, cmdSet: false, ctxPaths: new Set(),
  };
}

/** An image (or scratch) used by COPY --from or RUN --mount from= without a FROM of its own. */
function imageState(name: string, location: Location): StageState {
  const from = { kind: "from" as const, image: name, stageName: undefined, platform: undefined, location, original: "" };
  return newState({ name: undefined, index: -1, from, commands: [] }, name, true);
}

export type StageOptions = { globals: EnvGetter; lex: ShellLex; noCacheStages: readonly string[]; namedContexts?: NamedContexts | undefined };

/** One state per FROM: its base name and platform expanded with the global ARGs, its step count. */
export function createStates(stages: readonly Stage[], opts: StageOptions): StageSet {
  const set = new StageSet();
  for (const stage of stages) {
    const loc = stage.from.location;
    const baseName = expandGlobal(opts, stage.from.image, loc);
    if (baseName === "") throw new InstructionError(`base name (${stage.from.image}) should not be blank`, loc, "check the ARG used in FROM");
    const s = newState(stage, baseName, false);
    if (stage.from.platform !== undefined) s.platform = stagePlatform(opts, stage.from.platform, loc);
    set.add(s);
    const named = stage.name === undefined ? undefined : findNamedContext(opts.namedContexts, stage.name);
    if (named !== undefined) {
      // As BuildKit: the stage is the named context; its own FROM and instructions are not used.
      set.replaced.set(s, named);
      s.base = undefined;
      s.commands = [];
      continue;
    }
    let total = baseName !== "scratch" && s.base === undefined ? 1 : 0;
    for (const c of stage.commands) if (c.kind === "add" || c.kind === "copy" || c.kind === "run" || c.kind === "workdir") total++;
    s.cmdTotal = total;
    s.ignoreCache = stage.name !== undefined && opts.noCacheStages.some((n) => n.toLowerCase() === stage.name);
  }
  return set;
}

function expandGlobal(opts: StageOptions, word: string, loc: Location): string {
  try {
    return opts.lex.processWord(word, opts.globals).result;
  } catch (e) {
    throw new InstructionError((e as Error).message, loc, undefined, "E_DOCKERFILE_EXPANSION");
  }
}

function stagePlatform(opts: StageOptions, text: string, loc: Location): Platform {
  const value = expandGlobal(opts, text, loc);
  if (value === "") throw new InstructionError(`empty platform value from expression ${text}`, loc, "set the ARG the platform uses");
  const platform = parsePlatform(value);
  if (!platform) throw new InstructionError(`failed to parse platform ${text}: "${value}" is not a valid platform`, loc, "write it as os/arch[/variant], e.g. linux/arm64");
  return platform;
}

/** Records what each instruction reads from (COPY --from, RUN --mount from=) and refuses cycles. */
export function linkDependencies(set: StageSet, lex: ShellLex): void {
  for (const s of [...set.states]) {
    for (const entry of s.commands) addSources(set, s, entry, lex);
  }
  checkCycles(set.states);
  if (set.states.length === 1) (set.states[0] as StageState).stageName = "";
}

/** Fills in an instruction's sources; returns whether it has any. */
export function addSources(set: StageSet, s: StageState, entry: CommandEntry, lex: ShellLex): boolean {
  entry.sources = sourcesOf(set, entry.cmd, lex);
  for (const src of entry.sources) {
    s.deps.set(src, entry.cmd);
    if (src.unregistered && !set.states.includes(src)) set.add(src);
  }
  return entry.sources.length > 0;
}

const EMPTY_ENV = envFromList([]);

function sourcesOf(set: StageSet, cmd: Command, lex: ShellLex): StageState[] {
  if (cmd.kind === "copy" && cmd.from !== undefined) {
    if (lex.processWord(cmd.from, EMPTY_ENV).result !== cmd.from) {
      throw new InstructionError(
        "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround",
        cmd.location,
        "declare the ARG before the first FROM, add `FROM ${ARG} AS src`, then COPY --from=src",
      );
    }
    return [stageRef(set, cmd.from, cmd.location)];
  }
  if (cmd.kind === "run") {
    // Every mount gets a source (scratch when it names none), as BuildKit counts them.
    return cmd.mounts.map((m) => stageRef(set, parseMount(m).from || "scratch", cmd.location));
  }
  return [];
}

function stageRef(set: StageSet, ref: string, location: Location): StageState {
  if (/^[+-]?\d+$/.test(ref)) return set.indexed(ref, location);
  return set.named(ref) ?? imageState(ref, location);
}

function checkCycles(states: readonly StageState[]): void {
  const visited = new Set<StageState>();
  const path = new Set<StageState>();
  const visit = (s: StageState, cmds: Command[]): Command[] | undefined => {
    if (visited.has(s)) return undefined;
    visited.add(s);
    path.add(s);
    for (const [dep, cmd] of s.deps) {
      const next = [...cmds, cmd];
      if (path.has(dep)) return next;
      const found = visit(dep, next);
      if (found) return found;
    }
    path.delete(s);
    return undefined;
  };
  for (const s of states) {
    const cycle = visit(s, []);
    if (cycle) {
      throw new InstructionError(`circular dependency detected on stage: ${s.stageName}`, (cycle[0] as Command).location, "a stage cannot copy or mount from itself or from a stage that depends on it");
    }
  }
}

/** The stages a target needs: its base stages and everything they copy or mount from. */
export function reachableFrom(target: StageState): Set<StageState> {
  const seen = new Set<StageState>();
  const visit = (s: StageState) => {
    if (seen.has(s)) return;
    seen.add(s);
    if (s.base) visit(s.base);
    for (const dep of s.deps.keys()) visit(dep);
  };
  visit(target);
  return seen;
}

/** The stage --target names (the last one by default), or an error listing the stages there are. */
export function findTarget(set: StageSet, target: string | undefined): StageState {
  const registered = set.states.filter((s) => !s.unregistered);
  if (target === undefined || target === "") return registered.at(-1) as StageState;
  const found = set.named(target);
  if (found) return found;
  const names = set.names();
  const near = closest(target, names, true);
  const stages = names.length > 0 ? `stages in this Dockerfile: ${names.join(", ")}` : "no stage has a name; name one with FROM IMAGE AS NAME";
  throw new KitError("E_DOCKERFILE_TARGET", `target stage "${target}" could not be found`, {
    hint: near ? `did you mean "${near}"? ${stages}` : stages,
  });
}
