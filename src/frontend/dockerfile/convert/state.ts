// The state of one stage while it is converted (BuildKit's dispatchState): where its filesystem
// comes from, the stages it depends on, its graph output so far, its exec environment, working
// directory and user, its image config, and its step counter for progress names.
import type { Output } from "../../../llb/builder.ts";
import type { ImageConfig, Platform } from "../../../oci/types.ts";
import type { Command, KeyValueOptional, Stage } from "../instructions/types.ts";
import { envFromList, type EnvGetter } from "../shell/lex.ts";

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
  env: string[];
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
};

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function keyOf(entry: string): string {
  const eq = entry.indexOf("=");
  return eq < 0 ? entry : entry.slice(0, eq);
}

/** Sets a variable the way an llb state does: the key moves to the end of the list. */
export function addStateEnv(list: readonly string[], key: string, value: string): string[] {
  return [...list.filter((e) => keyOf(e) !== key), `${key}=${value}`];
}

/** Sets a variable the way the image config does: replaced in place, else appended. */
export function addConfigEnv(list: readonly string[], key: string, value: string): string[] {
  const i = list.findIndex((e) => keyOf(e) === key);
  if (i < 0) return [...list, `${key}=${value}`];
  const out = [...list];
  out[i] = `${key}=${value}`;
  return out;
}

export function getEnv(list: readonly string[], key: string): string | undefined {
  for (let i = list.length - 1; i >= 0; i--) {
    const e = list[i] as string;
    if (keyOf(e) === key) return e.slice(key.length + 1);
  }
  return undefined;
}

export function envGetter(s: StageState): EnvGetter {
  return envFromList(s.env);
}

/** "[build 2/5] " and the like, as BuildKit prefixes step names; ONBUILD triggers say so. */
export function stepPrefix(s: StageState): string {
  if (s.cmdTotal === 0) return "";
  s.cmdIndex++;
  const width = 1 + Math.floor(Math.log10(s.cmdTotal));
  const name = s.stageName ? `${s.stageName} ` : "";
  return `[${name}${String(s.cmdIndex).padStart(width, " ")}/${s.cmdTotal}] ${s.cmdIsOnBuild ? "ONBUILD " : ""}`;
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
