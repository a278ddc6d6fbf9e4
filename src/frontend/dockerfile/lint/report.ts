// Collects build-check findings under a check config: a skipped rule is dropped where it is found,
// so a `# check=skip=` comment above one instruction silences only that instruction.
import type { Location } from "../instructions/types.ts";
import { type CheckConfig, mergeComments } from "./config.ts";
import { MESSAGES, type Rule, type RuleName, ruleOf } from "./rules.ts";

export type LintWarning = Rule & { message: string; location: Location | undefined };

export class LintReport {
  readonly warnings: LintWarning[] = [];

  constructor(readonly config: CheckConfig) {}

  /** Records a finding, worded by the rule's message, unless the rule is skipped (by the file's config or the given comments). */
  add<R extends RuleName>(name: R, args: Parameters<(typeof MESSAGES)[R]>, location: Location | undefined, comments: readonly string[] = []): void {
    const config = comments.length > 0 ? mergeComments(this.config, comments) : this.config;
    if (config.skipAll || config.skip.has(name)) return;
    const message = (MESSAGES[name] as (...a: readonly unknown[]) => string)(...args);
    this.warnings.push({ ...ruleOf(name), message, location });
  }

  /** BuildKit's error when error=true and a rule fired: the rules' names, each once. */
  failure(): string | undefined {
    if (!this.config.error || this.warnings.length === 0) return undefined;
    return `lint violation found for rules: ${[...new Set(this.warnings.map((w) => w.name))].join(", ")}`;
  }
}

/** Go's linter.LintFormatShort: "Rule: message (line N)". */
export function shortText(w: LintWarning): string {
  const line = w.location?.startLine ?? 0;
  return `${w.name}: ${w.message}${line > 0 ? ` (line ${line})` : ""}`;
}
