// Build checks (BuildKit's linter) over one Dockerfile: parse, walk the stages as the conversion
// does (global ARGs, each stage's variables from its base), and collect the findings under the
// `# check=` / BUILDKIT_DOCKERFILE_CHECK config. Nothing here prints or fails the build: the caller
// prints the findings and fails when `failure` is set.
import { formatPlatformAll, normalizePlatform, parsePlatform } from "../../../oci/platform.ts";
import type { Platform } from "../../../oci/types.ts";
import { defaultArgs, globalArgs } from "../convert/args.ts";
import { parseDockerfile } from "../parser/parser.ts";
import { ShellLex } from "../shell/lex.ts";
import { parseMount } from "../instructions/mount.ts";
import { checkConfigOf } from "./config.ts";
import { dispatchStage, type StageEnd, type StageStart } from "./dispatch-rules.ts";
import { checkDefaultBaseNames, checkFrom, defaultsOnlyArgs, getterOf } from "./from-rules.ts";
import { LintReport, type LintWarning } from "./report.ts";
import { checkStages } from "./stage-rules.ts";
import { type LintStage, walkDockerfile } from "./walk.ts";

export type { LintWarning } from "./report.ts";

/** A base image as resolved for the build. */
export type BaseImageInfo = { env: readonly string[]; shell: boolean; platform: Platform };

export type LintOptions = {
  source: string;
  buildArgs: Record<string, string>;
  /** The .dockerignore patterns. */
  excludePatterns: readonly string[];
  /** The target platform. */
  platform: Platform;
  /** The platform the build runs on (BUILDPLATFORM); the target platform when not given. */
  buildPlatform?: Platform | undefined;
  target: string | undefined;
  /**
   * Every stage's instructions are checked (BuildKit's check without a target); otherwise only
   * those of the stages the target needs, as a build converts only those.
   */
  allStages: boolean;
  /**
   * A base image by the name its FROM expands to and the platform it was resolved for (FROM
   * --platform, else the target's); undefined when it was not resolved (its variables are then not judged).
   */
  baseImage(name: string, platform: Platform): BaseImageInfo | undefined;
};

export type LintResult = {
  warnings: LintWarning[];
  /** Set when `error=true` and a rule fired: the build (and --check) fails with this message. */
  failure: string | undefined;
};

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function lintDockerfile(opts: LintOptions): LintResult {
  const parsed = parseDockerfile(opts.source);
  const report = new LintReport(checkConfigOf(parsed.directives.check, opts.buildArgs.BUILDKIT_DOCKERFILE_CHECK));
  const file = walkDockerfile(parsed.ast);
  checkStages(file, parsed.warnings, report);
  const lex = new ShellLex(parsed.escapeToken);
  const lastName = file.stages.at(-1)?.from.cmd.stageName ?? "";
  const defaults = defaultArgs(opts.buildPlatform ?? opts.platform, opts.platform, opts.target || lastName, opts.buildArgs);
  const globals = globalArgs(defaults, file.metaArgs.map((e) => e.cmd), lex, opts.buildArgs, new Set()).getter();
  const predefined = new Map<string, string>();
  const noBuildArgs = defaultArgs(opts.buildPlatform ?? opts.platform, opts.platform, opts.target || lastName, {}).getter();
  for (const k of noBuildArgs.keys()) predefined.set(k, noBuildArgs.get(k) ?? "");
  const defaultsOnly = defaultsOnlyArgs(lex, predefined, file.metaArgs.map((e) => e.cmd));
  if (defaultsOnly) checkDefaultBaseNames(file.stages, lex, getterOf(defaultsOnly), report);
  const declared = file.metaArgs.flatMap((e) => e.cmd.args.map((a) => a.key));
  const ends: StageEnd[] = [];
  const needed = opts.allStages ? undefined : neededStages(file.stages, opts.target, lex, globals);
  // Stages the build does not convert still pass their variables on, but report nothing.
  const silent = new LintReport(report.config);
  file.stages.forEach((stage, i) => {
    checkFrom(stage, { lex, globals, declared }, report);
    const into = !needed || needed.has(i) ? report : silent;
    const start = stageStart(stage, file.stages, ends, lex, globals, opts, into);
    ends.push(dispatchStage(start, stage.commands, { lex, globals, buildArgs: opts.buildArgs, ignorePatterns: opts.excludePatterns, report: into }));
  });
  return { warnings: report.warnings, failure: report.failure() };
}

/** The target (or last) stage and every stage it reads: its base, COPY --from and RUN --mount from=. */
function neededStages(stages: readonly LintStage[], target: string | undefined, lex: ShellLex, globals: ReturnType<typeof getterOf>): Set<number> {
  const indexOf = (name: string, before: number) => {
    const lower = name.toLowerCase();
    const i = stages.findIndex((s, j) => j < before && s.from.cmd.stageName === lower);
    return i >= 0 ? i : /^\d+$/.test(name) && Number(name) < before ? Number(name) : -1;
  };
  const start = target ? stages.findIndex((s) => s.from.cmd.stageName === target.toLowerCase()) : stages.length - 1;
  const needed = new Set<number>();
  const visit = (i: number) => {
    if (i < 0 || needed.has(i)) return;
    needed.add(i);
    const stage = stages[i] as LintStage;
    let base = stage.from.cmd.image;
    try {
      base = lex.processWord(base, globals).result;
    } catch {
      // the build reports it
    }
    visit(indexOf(base, i));
    for (const { cmd } of stage.commands) {
      if ((cmd.kind === "copy" || cmd.kind === "add") && cmd.from !== undefined) visit(indexOf(cmd.from, i));
      if (cmd.kind === "run") for (const m of cmd.mounts) visit(indexOf(mountFrom(m), i));
    }
  };
  visit(start);
  return needed;
}

function mountFrom(spec: string): string {
  try {
    return parseMount(spec).from;
  } catch {
    return "";
  }
}

/** A stage's variables from its base: an earlier stage's, scratch's, or a resolved image's. */
function stageStart(stage: LintStage, stages: readonly LintStage[], ends: readonly StageEnd[], lex: ShellLex, globals: ReturnType<typeof getterOf>, opts: LintOptions, report: LintReport): StageStart {
  let name: string;
  try {
    name = lex.processWord(stage.from.cmd.image, globals).result;
  } catch {
    return { env: undefined, shellSet: false };
  }
  const lower = name.toLowerCase();
  const byName = stages.findIndex((s, i) => i < ends.length && s.from.cmd.stageName === lower);
  const index = byName >= 0 ? byName : /^\d+$/.test(name) && Number(name) < ends.length ? Number(name) : -1;
  if (index >= 0) {
    const base = ends[index] as StageEnd;
    return { env: base.env, shellSet: base.shellSet };
  }
  if (lower === "scratch") return { env: new Map([["PATH", DEFAULT_PATH]]), shellSet: false };
  const platform = stagePlatform(stage, lex, globals, opts);
  if (!platform) return { env: undefined, shellSet: false };
  const image = opts.baseImage(name, platform);
  if (!image) return { env: undefined, shellSet: false };
  const env = new Map<string, string>();
  for (const e of image.env) {
    const eq = e.indexOf("=");
    env.set(eq < 0 ? e : e.slice(0, eq), eq < 0 ? "" : e.slice(eq + 1));
  }
  if (!env.has("PATH")) env.set("PATH", DEFAULT_PATH);
  checkBasePlatform(stage, name, platform, image.platform, report);
  return { env, shellSet: image.shell };
}

/** The platform a stage's base is resolved for: FROM --platform's (as the conversion parses it), else the target's; undefined when it does not parse (the build reports it). */
function stagePlatform(stage: LintStage, lex: ShellLex, globals: ReturnType<typeof getterOf>, opts: LintOptions): Platform | undefined {
  if (stage.from.cmd.platform === undefined) return normalizePlatform(opts.platform);
  try {
    return parsePlatform(lex.processWord(stage.from.cmd.platform, globals).result);
  } catch {
    return undefined;
  }
}

/**
 * InvalidBaseImagePlatform, as BuildKit's validateBaseImagePlatform: the image resolved for a
 * platform is of another OS or architecture (a single-platform image, or an index whose only
 * match was a fallback such as 386 for amd64). The build goes on with that image.
 */
function checkBasePlatform(stage: LintStage, name: string, expected: Platform, actual: Platform, report: LintReport): void {
  const want = normalizePlatform(expected);
  const have = normalizePlatform(actual);
  if (want.os === have.os && want.architecture === have.architecture) return;
  report.add("InvalidBaseImagePlatform", [name, formatPlatformAll(want), formatPlatformAll(have)], stage.from.cmd.location, stage.from.node.prevComment);
}
