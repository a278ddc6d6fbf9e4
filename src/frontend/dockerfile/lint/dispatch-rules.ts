// Build checks that follow each stage's variables as the conversion does: undefined variables,
// secrets in ARG/ENV names, legacy `KEY value` forms, shell-form CMD/ENTRYPOINT, repeated
// CMD/ENTRYPOINT/HEALTHCHECK, a first relative WORKDIR, EXPOSE formats and COPY of ignored files.
import { PatternMatcher } from "../../../util/patterns.ts";
import { closest } from "../instructions/suggest.ts";
import type { Command, Location } from "../instructions/types.ts";
import { parseMount } from "../instructions/mount.ts";
import { ShellError, ShellLex, type EnvGetter } from "../shell/lex.ts";
import type { Node } from "../parser/node.ts";
import type { LintReport } from "./report.ts";
import type { MESSAGES, RuleName } from "./rules.ts";
import type { Entry } from "./walk.ts";

/** What a stage starts from: a base's variables (undefined: not known, so undefined variables are not judged). */
export type StageStart = { env: Map<string, string> | undefined; shellSet: boolean };

export type StageEnd = { env: Map<string, string> | undefined; shellSet: boolean };

export type DispatchScope = {
  lex: ShellLex;
  globals: EnvGetter;
  buildArgs: Record<string, string>;
  /** The .dockerignore patterns (CopyIgnoredFile). */
  ignorePatterns: readonly string[];
  report: LintReport;
};

const RAW_LEX = new ShellLex("\\", { skipProcessQuotes: true });

// Variables the frontend reads itself (SBOM scan settings), never undefined.
const NON_ENV_ARGS = new Set(["BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"]);
const SECRET = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const SECRET_ALLOWED = /(?:_|^)(?:public|file|version)(?:_|$)/i;

export function dispatchStage(start: StageStart, commands: readonly Entry<Command>[], scope: DispatchScope): StageEnd {
  const st = new StageWalk(start, scope);
  for (const entry of commands) st.command(entry);
  return { env: st.env, shellSet: st.shellSet };
}

class StageWalk {
  env: Map<string, string> | undefined;
  shellSet: boolean;
  private readonly declared = new Set<string>();
  private workdirSet = false;
  private readonly once = new Map<string, Location>();
  private comments: string[] = [];

  constructor(
    start: StageStart,
    private readonly scope: DispatchScope,
  ) {
    this.env = start.env ? new Map(start.env) : undefined;
    this.shellSet = start.shellSet;
  }

  private report<R extends RuleName>(rule: R, args: Parameters<(typeof MESSAGES)[R]>, at: Location): void {
    this.scope.report.add(rule, args, at, this.comments);
  }

  /** Expands one word with the stage's variables, reporting the undefined ones (unless `quiet`). */
  private expand(word: string, at: Location, lex = this.scope.lex, quiet = false): string {
    const env = this.getter();
    let r;
    try {
      r = lex.processWord(word, env);
    } catch (e) {
      if (e instanceof ShellError) return word;
      throw e;
    }
    if (this.env && !quiet) {
      for (const name of r.unmatched) {
        if (this.declared.has(name) || NON_ENV_ARGS.has(name)) continue;
        const s = closest(name, env.keys(), true);
        this.report("UndefinedVar", [name, s], at);
      }
    }
    return r.result;
  }

  private getter(): EnvGetter {
    const env = this.env ?? new Map<string, string>();
    return { get: (k) => env.get(k), keys: () => [...env.keys()] };
  }

  command({ node, cmd }: Entry<Command>): void {
    this.comments = node.prevComment;
    const at = cmd.location;
    const x = (w: string) => this.expand(w, at);
    switch (cmd.kind) {
      case "env": {
        if (isLegacyKeyValue(node)) this.report("LegacyKeyValueFormat", [node.value], at);
        const pairs = cmd.env.map((e) => ({ key: x(e.key), value: x(e.value) }));
        for (const e of pairs) {
          this.secret("ENV", e.key, at);
          this.env?.delete(e.key);
          this.env?.set(e.key, e.value);
        }
        return;
      }
      case "label":
        if (isLegacyKeyValue(node)) this.report("LegacyKeyValueFormat", [node.value], at);
        for (const l of cmd.labels) {
          x(l.key);
          x(l.value);
        }
        return;
      case "arg":
        return this.arg(cmd.args, at);
      case "workdir": {
        const path = x(cmd.path);
        if (!this.workdirSet && !path.startsWith("/")) this.report("WorkdirRelativePath", [path], at);
        this.workdirSet = true;
        return;
      }
      case "expose":
        // BuildKit expands EXPOSE's ports without judging undefined variables.
        for (const p of cmd.ports) this.expose(this.expand(p, at, this.scope.lex, true), at);
        return;
      case "user":
        x(cmd.user);
        return;
      case "volume":
        cmd.volumes.forEach(x);
        return;
      case "stopsignal":
        x(cmd.signal);
        return;
      case "shell":
        this.shellSet = true;
        return;
      case "cmd":
      case "entrypoint":
        this.usedOnce(node, at);
        if (cmd.prependShell && !this.shellSet) this.report("JSONArgsRecommended", [node.value], at);
        return;
      case "healthcheck":
        this.usedOnce(node, at);
        return;
      case "run":
        // --mount values are expanded (BuildKit's setMountState); a malformed one is the build's error.
        for (const spec of cmd.mounts) {
          try {
            parseMount(spec, x);
          } catch {
            // reported by the conversion
          }
        }
        return;
      case "copy":
      case "add": {
        if (cmd.chown !== undefined) x(cmd.chown);
        if (cmd.chmod !== undefined) x(cmd.chmod);
        if (cmd.kind === "add" && cmd.checksum !== undefined) x(cmd.checksum);
        const sources = cmd.sourcePaths.map(x);
        x(cmd.dest);
        // Heredoc sources that expand are expanded raw: quotes kept (BuildKit's ExpandRaw).
        for (const c of cmd.sourceContents) if (c.expand) this.expand(c.data, at, RAW_LEX);
        if (cmd.from === undefined) for (const src of sources) this.copySource(src, cmd.kind === "add" ? "Add" : "Copy", at);
        return;
      }
      default:
        return;
    }
  }

  private arg(args: ReadonlyArray<{ key: string; value: string | undefined }>, at: Location): void {
    for (const a of args) {
      this.secret("ARG", a.key, at);
      let value: string | undefined;
      if (Object.hasOwn(this.scope.buildArgs, a.key)) value = this.scope.buildArgs[a.key];
      else if (a.value !== undefined) value = this.expand(a.value, at);
      else value = this.scope.globals.get(a.key);
      this.declared.add(a.key);
      if (value !== undefined && !NON_ENV_ARGS.has(a.key)) {
        this.env?.delete(a.key);
        this.env?.set(a.key, value);
      }
    }
  }

  private secret(instruction: string, key: string, at: Location): void {
    if (SECRET.test(key) && !SECRET_ALLOWED.test(key)) this.report("SecretsUsedInArgOrEnv", [instruction, key], at);
  }

  /** The earlier CMD/ENTRYPOINT/HEALTHCHECK is the one reported: it is the one ignored. */
  private usedOnce(node: Node, at: Location): void {
    const key = node.value.toLowerCase();
    const previous = this.once.get(key);
    if (previous) this.report("MultipleInstructionsDisallowed", [node.value], previous);
    this.once.set(key, at);
  }

  /** `[ip:][hostPort:]containerPort[/proto]`, split as BuildKit's port specs. */
  private expose(raw: string, at: Location): void {
    const parts = raw.split(":");
    const container = parts.at(-1) as string;
    const slash = container.indexOf("/");
    const proto = slash < 0 ? "" : container.slice(slash + 1);
    if (proto !== proto.toLowerCase()) this.report("ExposeProtoCasing", [raw], at);
    if (parts.length > 1) this.report("ExposeInvalidFormat", [raw], at);
  }

  private copySource(src: string, cmd: string, at: Location): void {
    const patterns = this.scope.ignorePatterns;
    const ignore = new PatternMatcher(patterns);
    // With re-inclusions ("!x") what is excluded cannot be told without the files: not judged.
    if (ignore.empty || ignore.hasExclusions || isRemote(src)) return;
    const clean = cleanPath(src);
    const rel = clean.replace(/^\/+/, "");
    // The context's root counts as ignored only when a pattern excludes everything at the root.
    const hit = rel === "" ? patterns.some((p) => ["*", "**", "**/*"].includes(p.trim())) : ignore.matches(rel);
    if (hit) this.report("CopyIgnoredFile", [cmd, clean], at);
  }
}

/** `ENV key value` / `LABEL key value`: the parser leaves the first pair's separator empty. */
function isLegacyKeyValue(node: Node): boolean {
  const sep = node.next?.next?.next;
  return sep !== undefined && sep.value === "";
}

function isRemote(src: string): boolean {
  return /^(https?:\/\/|git@|git:\/\/)/.test(src) || /\.git(#|$)/.test(src);
}

function cleanPath(p: string): string {
  const abs = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out.at(-1) !== "..") out.pop();
      else if (!abs) out.push("..");
      continue;
    }
    out.push(part);
  }
  const joined = out.join("/");
  return abs ? `/${joined}` : joined === "" ? "." : joined;
}
