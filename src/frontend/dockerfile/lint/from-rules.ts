// Build checks on FROM lines, evaluated with the global ARGs: undeclared ARGs, a --platform that
// is $TARGETPLATFORM or a constant, and a base name that the ARGs' defaults leave empty or invalid.
import { ShellError, type EnvGetter, type ShellLex } from "../shell/lex.ts";
import { closest } from "../instructions/suggest.ts";
import type { ArgCommand } from "../instructions/types.ts";
import type { LintReport } from "./report.ts";
import type { LintStage } from "./walk.ts";

export type FromScope = { lex: ShellLex; globals: EnvGetter; declared: readonly string[] };

export function checkFrom(stage: LintStage, scope: FromScope, report: LintReport): void {
  const { cmd, node } = stage.from;
  const at = cmd.location;
  const comments = node.prevComment;
  const keys = [...new Set([...scope.declared, ...scope.globals.keys()])];
  const undeclared = (unmatched: Set<string>) => {
    for (const name of unmatched) {
      if (keys.includes(name)) continue;
      report.add("UndefinedArgInFrom", [name, closest(name, keys, true)], at, comments);
    }
  };
  const image = expand(scope.lex, cmd.image, scope.globals);
  if (image) undeclared(image.unmatched);
  if (cmd.platform === undefined) return;
  const platform = expand(scope.lex, cmd.platform, scope.globals);
  if (!platform) return;
  undeclared(platform.unmatched);
  if (platform.matched.size === 1 && platform.unmatched.size === 0 && platform.matched.has("TARGETPLATFORM") && platform.result === scope.globals.get("TARGETPLATFORM")) {
    report.add("RedundantTargetPlatform", [cmd.platform], at, comments);
  }
  if (platform.matched.size === 0 && platform.unmatched.size === 0) {
    const p = parsePlatform(platform.result);
    const name = cmd.stageName ?? "";
    if (p && !name.includes(p.os) && !name.includes(p.arch)) {
      report.add("FromPlatformFlagConstDisallowed", [platform.result], at, comments);
    }
  }
}

/** InvalidDefaultArgInFrom: each base name expanded with the ARGs' defaults alone (no --build-arg). */
export function checkDefaultBaseNames(stages: readonly LintStage[], lex: ShellLex, defaultsOnly: EnvGetter, report: LintReport): void {
  for (const { from } of stages) {
    const r = expand(lex, from.cmd.image, defaultsOnly);
    if (!r) return;
    if (!isValidReference(r.result)) report.add("InvalidDefaultArgInFrom", [from.cmd.image], from.cmd.location);
  }
}

/** The meta ARGs' values from their defaults only, as BuildKit's check evaluates them. */
export function defaultsOnlyArgs(lex: ShellLex, predefined: Map<string, string>, metaArgs: readonly ArgCommand[]): Map<string, string> | undefined {
  const values = new Map(predefined);
  for (const cmd of metaArgs) {
    for (const arg of cmd.args) {
      if (arg.value === undefined) continue;
      const r = expand(lex, arg.value, getterOf(values));
      if (!r) return undefined;
      values.delete(arg.key);
      values.set(arg.key, r.result);
    }
  }
  return values;
}

export function getterOf(values: Map<string, string>): EnvGetter {
  return { get: (k) => values.get(k), keys: () => [...values.keys()] };
}

function expand(lex: ShellLex, word: string, env: EnvGetter) {
  try {
    return lex.processWord(word, env);
  } catch (e) {
    if (e instanceof ShellError) return undefined; // the build reports it
    throw e;
  }
}

const ARCH_ALIASES: Record<string, string> = { x86_64: "amd64", "x86-64": "amd64", aarch64: "arm64", armhf: "arm", armel: "arm", i386: "386" };
const OSES = new Set(["linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris", "illumos", "aix", "android", "ios", "js", "wasip1", "plan9", "dragonfly"]);

/** containerd's platform specifier, enough to know its OS and architecture. */
function parsePlatform(text: string): { os: string; arch: string } | undefined {
  if (!/^[A-Za-z0-9_.\-/]+$/.test(text)) return undefined;
  const parts = text.toLowerCase().split("/");
  if (parts.length > 3) return undefined;
  const first = parts[0] as string;
  if (parts.length === 1) return OSES.has(first) ? { os: first, arch: "" } : { os: "linux", arch: ARCH_ALIASES[first] ?? first };
  if (!OSES.has(first)) return undefined;
  const arch = parts[1] as string;
  return { os: first, arch: ARCH_ALIASES[arch] ?? arch };
}

// The distribution reference grammar, as ParseNormalizedNamed applies it.
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);

function isValidReference(s: string): boolean {
  if (s === "" || /^[a-f0-9]{64}$/.test(s)) return false;
  const slash = s.indexOf("/");
  // A first component without ".", ":" or uppercase that is not localhost is a Docker Hub path.
  const first = slash < 0 ? "" : s.slice(0, slash);
  const hasDomain = slash >= 0 && (/[.:]/.test(first) || first === "localhost" || first !== first.toLowerCase());
  const name = hasDomain ? s.slice(slash + 1) : s;
  if (!REFERENCE.test(hasDomain ? `${first}/${name}` : name)) return false;
  const repo = name.replace(/@.*$/, "").replace(/:[^/]*$/, "");
  return repo.length <= 255;
}
