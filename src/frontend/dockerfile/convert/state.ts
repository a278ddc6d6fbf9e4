// The state of one stage while it is converted (BuildKit's dispatchState): where its filesystem
// comes from, the stages it depends on, its graph output so far, its exec environment, working
// directory and user, its image config, and its step counter for progress names.
import type { Output } from "../../../llb/builder.ts";
import type { ImageConfig, Platform } from "../../../oci/types.ts";
import type { Command, KeyValueOptional, Stage } from "../instructions/types.ts";
import type { EnvGetter } from "../shell/lex.ts";
import type { EnvList } from "./env-list.ts";
import { formatPlatform } from "../../../oci/platform.ts";

/** An instruction with the stages it reads from (COPY --from, RUN --mount from=). */
export type CommandEntry = { cmd: Command; sources: StageState[]; isOnBuild: boolean };

export type StageState = {
  /** Position among all states (stages, then images named by COPY --from or --mount from=). */
  index: number;
  stage: Stage;
  /** The FROM image or stage name, with the global ARGs expanded. */
  baseName: string;
  /** The name in progress output: `AS name`, else "stage-N"; "" when there is a single state. */
  stageName: string;
  /** An image named by COPY --from or RUN --mount from= rather than declared with FROM. */
  unregistered: boolean;
  /** The stage this one starts FROM, when it starts from a stage. */
  base: StageState | undefined;
  /** Stages this one reads from, with the instruction that does. */
  deps: Map<StageState, Command>;
  commands: CommandEntry[];
  platform: Platform | undefined;
  resolved: boolean;
  dispatched: boolean;
  onBuildInit: boolean;
  ignoreCache: boolean;
  /** The filesystem so far; undefined is scratch. */
  output: Output | undefined;
  /** The environment RUN sees, in the order BuildKit's state keeps it (a key set again moves last). */
  env: EnvList;
  /**
   * The image config's Env while the stage is dispatched (a key set again keeps its place); it is
   * written to `image.config.Env` when the stage is done.
   */
  configEnv: EnvList;
  image: ImageConfig;
  workdir: string;
  user: string;
  /** The ARGs declared in this stage (and its base stages), for RUN's history text. */
  buildArgs: KeyValueOptional[];
  cmdIndex: number;
  cmdTotal: number;
  cmdIsOnBuild: boolean;
  /** Whether CMD was set in this stage (ENTRYPOINT keeps it then). */
  cmdSet: boolean;
  /** Context paths this stage reads (COPY/ADD sources, bind mounts of the context). */
  ctxPaths: Set<string>;
  /** Several platforms were asked for: step names start with the stage's platform (BuildKit's MultiPlatformRequested). */
  prefixPlatform?: boolean;
};

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The stage's environment for expanding words now (it reads the stage's current values). */
export function envGetter(s: StageState): EnvGetter {
  return s.env.getter();
}

/** "[build 2/5] " and the like, as BuildKit prefixes step names; ONBUILD triggers say so. */
export function stepPrefix(s: StageState, withEnv = true): string {
  if (s.cmdTotal === 0) return "";
  s.cmdIndex++;
  const width = 1 + Math.floor(Math.log10(s.cmdTotal));
  const name = s.stageName ? `${s.stageName} ` : "";
  const platform = s.prefixPlatform && s.platform ? `${formatPlatform(s.platform)}${crossTarget(s.platform, withEnv ? s.env : undefined)} ` : "";
  return `[${platform}${name}${String(s.cmdIndex).padStart(width, " ")}/${s.cmdTotal}] ${s.cmdIsOnBuild ? "ONBUILD " : ""}`;
}

/**
 * "->arm64" when the stage's variables name another target than the stage's own platform (the
 * cross-compilation pattern: a BUILDPLATFORM stage with ARG TARGETARCH), as BuildKit's
 * formatTargetPlatform; FROM lines are named before any variable (BuildKit passes none).
 */
function crossTarget(base: Platform, env: EnvList | undefined): string {
  const target = env ? platformFromEnv(env) : undefined;
  if (!target) return "";
  const os = target.os || base.os;
  const architecture = target.architecture || base.architecture;
  if (os === base.os && architecture !== base.architecture) return `->${architecture}${target.variant ? `/${target.variant}` : ""}`;
  if (os !== base.os) return `->${formatPlatform({ os, architecture, ...(target.variant ? { variant: target.variant } : {}) })}`;
  return "";
}

/** TARGETPLATFORM, else TARGETOS/TARGETARCH/TARGETVARIANT, as the stage has them (BuildKit's platformFromEnv). */
function platformFromEnv(env: EnvList): Platform | undefined {
  const full = env.get("TARGETPLATFORM");
  if (full !== undefined) {
    const [os = "", architecture = "", variant] = full.split("/");
    if (os && architecture) return { os, architecture, ...(variant ? { variant } : {}) };
  }
  const os = env.get("TARGETOS");
  const architecture = env.get("TARGETARCH");
  const variant = env.get("TARGETVARIANT");
  if (os === undefined && architecture === undefined && variant === undefined) return undefined;
  return { os: os ?? "", architecture: architecture ?? "", ...(variant ? { variant } : {}) };
}

/** Uppercases the first space-separated word ("run echo" → "RUN echo"). */
export function uppercaseCmd(text: string): string {
  const sp = text.indexOf(" ");
  return sp < 0 ? text.toUpperCase() : `${text.slice(0, sp).toUpperCase()}${text.slice(sp)}`;
}

const HISTORY_COMMENT = "buildkit.dockerfile.v0";

/**
 * Adds a history entry. Steps that produce a graph vertex of their own (RUN, COPY, ADD) end with
 * " # buildkit"; `withLayer` false marks an empty layer.
 */
export function commitHistory(s: StageState, createdBy: string, opts: { withLayer: boolean; fromState: boolean; epoch: number | undefined }): void {
  s.image.history ??= [];
  s.image.history.push({
    ...(opts.epoch === undefined ? {} : { created: new Date(opts.epoch * 1000).toISOString().replace(".000Z", "Z") }),
    created_by: opts.fromState ? `${createdBy} # buildkit` : createdBy,
    comment: HISTORY_COMMENT,
    ...(opts.withLayer ? {} : { empty_layer: true }),
  });
}

/** The index of `o` among a vertex's inputs, adding it when it is not there yet. */
export function inputIndex(inputs: Output[], o: Output): number {
  const i = inputs.findIndex((x) => x.node === o.node && x.index === o.index);
  return i >= 0 ? i : inputs.push(o) - 1;
}

/** Object keys sorted, as Go writes a map (ExposedPorts, Volumes, Labels) into the image config. */
export function sortedRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
