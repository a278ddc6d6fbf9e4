// Build checks that need no variable values: keyword and stage-name casing, duplicate and
// reserved stage names, MAINTAINER, and the parser's empty continuation lines.
import type { ParseWarning } from "../parser/parser.ts";
import type { LintReport } from "./report.ts";
import { ruleOf } from "./rules.ts";
import { fromWords, type LintFile } from "./walk.ts";

const RESERVED_STAGE_NAMES = new Set(["context", "scratch"]);

export function checkStages(file: LintFile, parseWarnings: readonly ParseWarning[], report: LintReport): void {
  // The parser reports an empty continuation line at the line that ends the instruction; BuildKit
  // picks these warnings out by their URL.
  const emptyContinuation = ruleOf("NoEmptyContinuation").url;
  for (const w of parseWarnings) {
    if (w.url === emptyContinuation) report.add("NoEmptyContinuation", [], { startLine: w.line, endLine: w.line });
  }
  for (const stage of file.stages) {
    checkFromCasing(stage.from.node.value, fromWords(stage.from.node), stage.from.cmd.location, stage.from.node.prevComment, report);
    for (const { node, cmd } of stage.commands) {
      if (cmd.kind === "maintainer") report.add("MaintainerDeprecated", [], cmd.location, node.prevComment);
    }
  }
  checkStageNames(file, report);
  checkCommandCasing(file, report);
}

function checkFromCasing(keyword: string, words: string[], location: { startLine: number; endLine: number }, comments: string[], report: LintReport): void {
  if (words.length === 3) {
    const name = words[2] as string;
    if (name !== name.toLowerCase()) report.add("StageNameCasing", [name], location, comments);
  }
  if (words.length < 3) return;
  const as = words[1] as string;
  const lower = keyword === keyword.toLowerCase();
  const upper = keyword === keyword.toUpperCase();
  // A keyword in mixed case is ConsistentInstructionCasing's concern.
  if (!lower && !upper) return;
  const matches = lower ? as === as.toLowerCase() : as === as.toUpperCase();
  if (!matches) report.add("FromAsCasing", [keyword, as], location, comments);
}

function checkStageNames(file: LintFile, report: LintReport): void {
  const seen = new Set<string>();
  for (const { from } of file.stages) {
    const name = from.cmd.stageName;
    if (!name) continue;
    if (RESERVED_STAGE_NAMES.has(name)) report.add("ReservedStageName", [name], from.cmd.location);
    if (seen.has(name)) report.add("DuplicateStageName", [name], from.cmd.location);
    seen.add(name);
  }
}

/** Every keyword in one case: the majority's (upper on a tie), counting only self-consistent ones. */
function checkCommandCasing(file: LintFile, report: LintReport): void {
  const entries = file.stages.flatMap((s) => [s.from, ...s.commands]);
  let lower = 0;
  let upper = 0;
  for (const { node } of entries) {
    if (node.value === node.value.toLowerCase()) lower++;
    else if (node.value === node.value.toUpperCase()) upper++;
  }
  const majorityLower = lower > upper;
  for (const { node, cmd } of entries) {
    const name = node.value;
    const casing = majorityLower && name !== name.toLowerCase() ? "lowercase" : !majorityLower && name !== name.toUpperCase() ? "uppercase" : undefined;
    if (casing) report.add("ConsistentInstructionCasing", [name, casing], cmd.location);
  }
}
