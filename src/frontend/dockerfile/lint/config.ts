// Which build checks run and whether a finding fails the build: the `# check=` directive, the
// BUILDKIT_DOCKERFILE_CHECK build arg (which wins over the directive), and `# check=` comments
// just above one instruction, read as BuildKit's linter.ParseLintOptions reads them.
import { KitError } from "../../../util/errors.ts";

export type CheckConfig = {
  skipAll: boolean;
  skip: Set<string>;
  /** error=true: a finding fails the build (and --check) with "lint violation found for rules: …". */
  error: boolean;
};

export const DEFAULT_CHECK_CONFIG: CheckConfig = { skipAll: false, skip: new Set(), error: false };

/** `skip=A,B|all;error=true;experimental=…` (at most three parts, as BuildKit splits them). */
export function parseCheckOptions(text: string): CheckConfig {
  const out: CheckConfig = { skipAll: false, skip: new Set(), error: false };
  const trimmed = text.trim();
  if (trimmed === "") return out;
  for (const part of splitN(trimmed, ";", 3)) {
    const eq = part.indexOf("=");
    if (eq < 0) throw invalid(`invalid check option "${part}"`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "skip") {
      if (value === "all") out.skipAll = true;
      else for (const rule of value.split(",")) out.skip.add(rule.trim());
    } else if (key === "error") {
      const b = parseGoBool(value);
      if (b === undefined) throw invalid(`failed to parse check option "${part}": invalid syntax`);
      out.error = b;
    } else if (key === "experimental") {
      // kitbuild has BuildKit's stable rules only; naming experimental ones is accepted and has no effect.
    } else {
      throw invalid(`invalid check option "${key}"`);
    }
  }
  return out;
}

/** The build's check config: the build arg if given, else the directive. */
export function checkConfigOf(directive: string | undefined, buildArg: string | undefined): CheckConfig {
  const text = buildArg ?? directive;
  if (text === undefined) return DEFAULT_CHECK_CONFIG;
  try {
    return parseCheckOptions(text);
  } catch (e) {
    // BuildKit's wording: "failed to parse check options: invalid check option …".
    if (e instanceof KitError) throw new KitError(e.code, `failed to parse check options: ${e.message}`, { hint: e.hint });
    throw e;
  }
}

/** A config with the skips of the first `check=` comment among an instruction's comments added. */
export function mergeComments(config: CheckConfig, comments: readonly string[]): CheckConfig {
  for (const comment of comments) {
    const m = /^check\s*=\s*(.*)$/i.exec(comment.trim());
    if (!m) continue;
    let extra: CheckConfig;
    try {
      extra = parseCheckOptions((m[1] as string).split(" ")[0] as string);
    } catch {
      return config; // BuildKit ignores a comment it cannot read.
    }
    return { skipAll: config.skipAll || extra.skipAll, skip: new Set([...config.skip, ...extra.skip]), error: config.error };
  }
  return config;
}

function splitN(s: string, sep: string, n: number): string[] {
  const parts = s.split(sep);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

function parseGoBool(v: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  return undefined;
}

function invalid(message: string): KitError {
  return new KitError("E_DOCKERFILE_CHECK_OPTIONS", message, {
    hint: "write it as # check=skip=RULE[,RULE…]|all;error=true|false (or the same in --build-arg BUILDKIT_DOCKERFILE_CHECK=…)",
  });
}
