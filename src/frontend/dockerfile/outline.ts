// `--call=outline` and `--call=targets`: what a target takes (build args with their values and
// doc comments, secrets, ssh agents) and the Dockerfile's stages, as BuildKit's frontend answers
// the frontend.outline and frontend.targets subrequests. Data only; the CLI prints it.
import { KitError } from "../../util/errors.ts";
import { defaultArgs } from "./convert/args.ts";
import { parseMount } from "./instructions/mount.ts";
import type { Location } from "./instructions/types.ts";
import { parseDockerfile } from "./parser/parser.ts";
import { type EnvGetter, ShellLex } from "./shell/lex.ts";
import { walkDockerfile, type Entry, type LintStage } from "./lint/walk.ts";
import type { Platform } from "../../oci/types.ts";

export type OutlineArg = { name: string; description: string; value: string; location: Location };
export type OutlineUse = { name: string; required: boolean; location: Location };
export type Outline = { name: string; description: string; args: OutlineArg[]; secrets: OutlineUse[]; ssh: OutlineUse[] };
export type Target = { name: string; description: string; default: boolean; base: string; platform: string; location: Location };

type ArgInfo = OutlineArg & { deps: Set<string> };
type StageOutline = {
  allArgs: Map<string, ArgInfo>;
  used: Set<string>;
  secrets: Map<string, OutlineUse>;
  ssh: Map<string, OutlineUse>;
  base: number | undefined;
  deps: Set<number>;
  /** The stage's variables at its end (ENV and ARG values), inherited by stages built on it. */
  env: Map<string, string>;
};

/** BuildKit's doc comment: the comment line above that starts with the name and a space. */
export function docComment(comments: readonly string[], name: string): string {
  if (name === "") return "";
  for (const line of comments) if (line.startsWith(`${name} `)) return line.slice(name.length + 1);
  return "";
}

export function listTargets(source: string): Target[] {
  const stages = walkDockerfile(parseDockerfile(source).ast).stages;
  return stages.map(({ from }, i) => ({
    name: from.cmd.stageName ?? "",
    description: docComment(from.node.prevComment, from.cmd.stageName ?? ""),
    default: i === stages.length - 1,
    base: from.cmd.image,
    platform: from.cmd.platform ?? "",
    location: from.cmd.location,
  }));
}

export function outlineOf(source: string, buildArgs: Record<string, string>, target: string | undefined, platform: Platform): Outline {
  const parsed = parseDockerfile(source);
  const file = walkDockerfile(parsed.ast);
  const lex = new ShellLex(parsed.escapeToken);
  const lastName = file.stages.at(-1)?.from.cmd.stageName ?? "";
  const env = new Map<string, string>();
  const defaults = defaultArgs(platform, platform, target || lastName, buildArgs).getter();
  for (const k of defaults.keys()) env.set(k, defaults.get(k) ?? "");
  const globalArgs = new Map<string, ArgInfo>();
  for (const { node, cmd } of file.metaArgs) {
    for (const a of cmd.args) {
      const info: ArgInfo = { name: a.key, description: docComment(node.prevComment, a.key), value: "", location: cmd.location, deps: new Set() };
      let value = buildArgs[a.key];
      if (value === undefined && a.value !== undefined) {
        const r = lex.processWord(a.value, getter(env));
        value = r.result;
        for (const d of r.matched) if (d !== a.key) info.deps.add(d);
        // A default that reads its own earlier value keeps what that value read (BuildKit's buildMetaArgs).
        if (r.matched.has(a.key)) for (const d of globalArgs.get(a.key)?.deps ?? []) info.deps.add(d);
      }
      if (value !== undefined) {
        env.delete(a.key);
        env.set(a.key, value);
        info.value = value;
      }
      globalArgs.set(a.key, info);
    }
  }
  const index = file.stages.findIndex((s) => s.from.cmd.stageName === (target ?? "").toLowerCase());
  const targetIndex = target ? index : file.stages.length - 1;
  if (targetIndex < 0) throw new KitError("E_DOCKERFILE_TARGET_NOT_FOUND", `target stage "${target}" could not be found`, { hint: "pass --target with one of the stage names (kitbuild build --call=targets . lists them)" });
  const outlines: StageOutline[] = [];
  for (const stage of file.stages) outlines.push(stageOutline(stage, file.stages, outlines, globalArgs, env, buildArgs, lex));
  const t = outlines[targetIndex] as StageOutline;
  const byLine = <T extends { location: Location }>(xs: T[]) => xs.sort((a, b) => a.location.startLine - b.location.startLine);
  const from = file.stages[targetIndex] as LintStage;
  const name = from.from.cmd.stageName ?? "";
  return {
    name,
    description: docComment(from.from.node.prevComment, name),
    args: byLine(collect(outlines, t, (o, seen) => usedArgs(o, seen))),
    secrets: byLine(collect(outlines, t, (o, seen) => fresh(o.secrets, seen))),
    ssh: byLine(collect(outlines, t, (o, seen) => fresh(o.ssh, seen))),
  };
}

function stageOutline(stage: LintStage, stages: readonly LintStage[], done: readonly StageOutline[], globalArgs: Map<string, ArgInfo>, globals: Map<string, string>, buildArgs: Record<string, string>, lex: ShellLex): StageOutline {
  const stageIndex = (name: string) => {
    const i = stages.findIndex((s, j) => j < done.length && s.from.cmd.stageName === name.toLowerCase());
    return i >= 0 ? i : /^\d+$/.test(name) && Number(name) < done.length ? Number(name) : undefined;
  };
  const baseName = lex.processWord(stage.from.cmd.image, getter(globals));
  const base = stageIndex(baseName.result);
  const parent = base === undefined ? undefined : done[base];
  const out: StageOutline = {
    allArgs: new Map(parent?.allArgs ?? globalArgs),
    used: new Set([...(parent?.used ?? []), ...baseName.matched]),
    secrets: new Map(parent?.secrets ?? []),
    ssh: new Map(parent?.ssh ?? []),
    base,
    deps: new Set(),
    env: new Map(parent?.env ?? []),
  };
  const env = out.env;
  for (const { node, cmd } of stage.commands as Entry<import("./instructions/types.ts").Command>[]) {
    if (cmd.kind === "env") for (const e of cmd.env) env.set(e.key, lex.processWord(e.value, getter(env)).result);
    if (cmd.kind === "arg") {
      for (const a of cmd.args) {
        const hasValue = Object.hasOwn(buildArgs, a.key);
        const inherited = !hasValue && a.value === undefined && globals.has(a.key);
        const value = hasValue ? buildArgs[a.key] : a.value !== undefined ? lex.processWord(a.value, getter(env)).result : globals.get(a.key);
        if (value !== undefined) env.set(a.key, value);
        if (!inherited) out.allArgs.set(a.key, { name: a.key, description: docComment(node.prevComment, a.key), value: value ?? "", location: cmd.location, deps: new Set() });
        out.used.add(a.key);
      }
    }
    if ((cmd.kind === "copy" || cmd.kind === "add") && cmd.from !== undefined) {
      const dep = stageIndex(cmd.from);
      if (dep !== undefined) out.deps.add(dep);
    }
    if (cmd.kind === "run") {
      for (const spec of cmd.mounts) {
        const m = parseMount(spec, (w) => lex.processWord(w, getter(env)).result);
        if (m.from !== "") {
          const dep = stageIndex(m.from);
          if (dep !== undefined) out.deps.add(dep);
        }
        if (m.type === "secret") {
          const id = m.id || (m.target.split("/").pop() ?? "");
          if (!out.secrets.has(id)) out.secrets.set(id, { name: id, required: m.required, location: cmd.location });
        }
        if (m.type === "ssh") {
          const id = m.id || "default";
          if (!out.ssh.has(id)) out.ssh.set(id, { name: id, required: m.required, location: cmd.location });
        }
      }
    }
  }
  return out;
}

/** The stage's own entries not seen yet, then its base's, then its dependencies' (BuildKit's order before sorting). */
function collect<T>(all: readonly StageOutline[], o: StageOutline, own: (o: StageOutline, seen: Set<string>) => T[], seen = new Set<string>(), visiting = new Set<StageOutline>()): T[] {
  if (visiting.has(o)) return [];
  visiting.add(o);
  const out = own(o, seen);
  if (o.base !== undefined) out.push(...collect(all, all[o.base] as StageOutline, own, seen, visiting));
  for (const d of o.deps) out.push(...collect(all, all[d] as StageOutline, own, seen, visiting));
  return out;
}

function usedArgs(o: StageOutline, seen: Set<string>): OutlineArg[] {
  const used = new Set<string>();
  const mark = (keys: Iterable<string>) => {
    for (const k of keys) {
      if (used.has(k)) continue;
      used.add(k);
      const a = o.allArgs.get(k);
      if (a) mark(a.deps);
    }
  };
  mark(o.used);
  const out: OutlineArg[] = [];
  for (const k of used) {
    const a = o.allArgs.get(k);
    if (!a || seen.has(k)) continue;
    seen.add(k);
    out.push({ name: a.name, description: a.description, value: a.value, location: a.location });
  }
  return out;
}

function fresh(m: Map<string, OutlineUse>, seen: Set<string>): OutlineUse[] {
  const out: OutlineUse[] = [];
  for (const [k, v] of m) {
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(v);
  }
  return out;
}

function getter(m: Map<string, string>): EnvGetter {
  return { get: (k) => m.get(k), keys: () => [...m.keys()] };
}
