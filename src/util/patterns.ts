// Path patterns with moby's patternmatcher semantics, as used by .dockerignore and --exclude:
// `*` and `?` stay within one path component, `**` spans any number of them, a pattern that
// matches a directory matches everything under it, `!` re-includes, and the last match wins.
import { posix } from "node:path";
import { KitError } from "./errors.ts";

type Pattern = { source: string; exclusion: boolean; re: RegExp; dirs: number };

export class PatternMatcher {
  private readonly patterns: Pattern[];
  readonly hasExclusions: boolean;

  constructor(patterns: readonly string[]) {
    this.patterns = patterns.filter((p) => p.trim() !== "").map(compile);
    this.hasExclusions = this.patterns.some((p) => p.exclusion);
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** Whether `path` (relative, "/"-separated, no leading "/") is matched, counting its parents. */
  matches(path: string): boolean {
    const parents = parentPaths(path);
    let matched = false;
    for (const p of this.patterns) {
      let hit = p.re.test(path);
      if (!hit) hit = parents.some((parent) => p.re.test(parent));
      if (hit) matched = !p.exclusion;
    }
    return matched;
  }

  /**
   * Whether a matched directory may still hold a re-included path, so a walk must enter it. True
   * when an exclusion pattern could match something below `dir`.
   */
  mayReinclude(dir: string): boolean {
    if (!this.hasExclusions) return false;
    const depth = dir.split("/").length;
    return this.patterns.some(
      (p) => p.exclusion && (p.source.includes("**") || p.dirs >= depth) && prefixCouldMatch(p.source, dir),
    );
  }
}

function compile(raw: string): Pattern {
  let source = raw.trim();
  let exclusion = false;
  if (source.startsWith("!")) {
    exclusion = true;
    source = source.slice(1).trim();
  }
  source = posix.normalize(source);
  if (source.length > 1 && source.startsWith("/")) source = source.slice(1);
  if (source.endsWith("/") && source.length > 1) source = source.slice(0, -1);
  try {
    return { source, exclusion, re: new RegExp(toRegExp(source)), dirs: source.split("/").length };
  } catch (e) {
    throw new KitError("E_CONTEXT_BAD_PATTERN", `invalid pattern "${raw}"`, { cause: e, hint: "check brackets and escapes in the pattern" });
  }
}

function toRegExp(pattern: string): string {
  let out = "^";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") i++;
        out += i + 1 >= pattern.length ? ".*" : "(.*/)?";
      } else {
        out += "[^/]*";
      }
    } else if (ch === "?") {
      out += "[^/]";
    } else if (ch === "\\") {
      const next = pattern[++i];
      out += next === undefined ? "\\\\" : `\\${next}`;
    } else if (ch === "[" || ch === "]") {
      out += ch;
    } else if (".+()|{}^$".includes(ch)) {
      out += `\\${ch}`;
    } else {
      out += ch;
    }
  }
  return `${out}$`;
}

function parentPaths(path: string): string[] {
  const parts = path.split("/");
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join("/"));
  return out;
}

/** Whether the leading components of `pattern` can match the components of `dir`. */
function prefixCouldMatch(pattern: string, dir: string): boolean {
  const pp = pattern.split("/");
  const dp = dir.split("/");
  for (let i = 0; i < dp.length && i < pp.length; i++) {
    const seg = pp[i] as string;
    if (seg.includes("**")) return true;
    if (!new RegExp(toRegExp(seg)).test(dp[i] as string)) return false;
  }
  return true;
}
