// What `--call=check|outline|targets` prints, as buildx prints BuildKit's subrequest results: the
// text tables (Go tabwriter layout), `--format=json` (the result's JSON, indented as Go's
// MarshalIndent), and the check's findings with their code frames. Also the "N warnings found"
// block a normal build ends with.
import type { CallSource, LintWarning, Outline, Target } from "../control/checks.ts";

type Location = { startLine: number; endLine: number };

/** Go's linter.LintFormatShort: "Rule: message (line N)". */
function shortText(w: LintWarning): string {
  const line = w.location?.startLine ?? 0;
  return `${w.name}: ${w.message}${line > 0 ? ` (line ${line})` : ""}`;
}

/** Go's text/tabwriter (minwidth 0, padchar ' ', no flags): each tab-ended cell padded to its column's widest plus `padding`. */
export function tabwrite(rows: string[][], padding: number): string {
  const widths: number[] = [];
  for (const row of rows) row.slice(0, -1).forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length + padding)));
  return rows.map((row) => row.map((c, i) => (i < row.length - 1 ? c + " ".repeat((widths[i] as number) - [...c].length) : c)).join("")).map((l) => `${l}\n`).join("");
}

export function outlineText(o: Outline): string {
  let out = "";
  if (o.name !== "" || o.description !== "") {
    const rows = [["TARGET:", o.name === "" ? "(default)" : o.name]];
    if (o.description !== "") rows.push(["DESCRIPTION:", o.description]);
    out += `${tabwrite(rows, 1)}\n`;
  }
  if (o.args.length > 0) out += `${tabwrite([["BUILD ARG", "VALUE", "DESCRIPTION"], ...o.args.map((a) => [a.name, a.value, a.description])], 3)}\n`;
  if (o.secrets.length > 0) out += `${tabwrite([["SECRET", "REQUIRED"], ...o.secrets.map((s) => [s.name, s.required ? "true" : ""])], 3)}\n`;
  if (o.ssh.length > 0) out += `${tabwrite([["SSH", "REQUIRED"], ...o.ssh.map((s) => [s.name, s.required ? "true" : ""])], 3)}\n`;
  return out;
}

export function targetsText(targets: readonly Target[]): string {
  const rows = targets.map((t) => [t.name === "" && t.default ? "(default)" : t.default ? `${t.name} (default)` : t.name, t.description]);
  return tabwrite([["TARGET", "DESCRIPTION"], ...rows], 1);
}

/** BuildKit's pb.Location as JSON (zero fields left out, as protobuf's JSON tags do). */
function locationJson(l: Location) {
  return { ranges: [{ start: { line: l.startLine }, end: { line: l.endLine } }] };
}

const source64 = (s: CallSource) => Buffer.from(s.text).toString("base64");

/** Go's json.MarshalIndent with "  ", which Bun's JSON.stringify matches for these shapes; omitempty fields dropped. */
export function outlineJson(o: Outline, src: CallSource): string {
  const args = o.args.map((a) => omitEmpty({ name: a.name, description: a.description, value: a.value, location: locationJson(a.location) }));
  const uses = (xs: Outline["secrets"]) => xs.map((s) => omitEmpty({ name: s.name, required: s.required, location: locationJson(s.location) }));
  return JSON.stringify(omitEmpty({ name: o.name, description: o.description, args, secrets: uses(o.secrets), ssh: uses(o.ssh), sources: [source64(src)] }), null, 2);
}

export function targetsJson(targets: readonly Target[], src: CallSource): string {
  const list = targets.map((t) => omitEmpty({ name: t.name, default: t.default, description: t.description, base: t.base, platform: t.platform, location: locationJson(t.location) }));
  return JSON.stringify({ targets: list, sources: [source64(src)] }, null, 2);
}

export function checkJson(warnings: readonly LintWarning[], src: CallSource, failure: string | undefined): string {
  const ws = warnings.map((w) => omitEmpty({ ruleName: w.name, description: w.description, url: w.url ?? "", detail: w.message, location: w.location ? locationJson(w.location) : {} }));
  const out: Record<string, unknown> = { warnings: ws, sources: [{ filename: src.name, language: "Dockerfile", data: source64(src) }] };
  if (failure) out.buildError = { message: failure, location: {} };
  return JSON.stringify(out, null, 2);
}

/** `--check` in text: "Check complete, …" and each finding (ordered by line) with its code frame. */
export function checkText(warnings: readonly LintWarning[], src: CallSource): string {
  const sorted = [...warnings].sort((a, b) => (a.location?.startLine ?? 0) - (b.location?.startLine ?? 0));
  if (sorted.length === 0) return "Check complete, no warnings found.\n";
  let out = `Check complete, ${sorted.length === 1 ? "1 warning has been found!" : `${sorted.length} warnings have been found!`}\n`;
  for (const w of sorted) {
    out += `\nWARNING: ${w.name}${w.url ? ` - ${w.url}` : ""}\n${w.message}\n`;
    if (w.location) out += sourceFrame(src, w.location);
  }
  return out;
}

/** The end of a build with findings, as buildx prints it on stderr (details with --debug). */
export function buildWarningsText(warnings: readonly LintWarning[], src: CallSource, debug: boolean): string {
  if (warnings.length === 0) return "";
  let out = `\n ${warnings.length === 1 ? "1 warning found" : `${warnings.length} warnings found`}${debug ? "" : " (use docker --debug to expand)"}:\n`;
  for (const w of warnings) {
    out += ` - ${shortText(w)}\n`;
    if (!debug) continue;
    out += `${w.description}\n`;
    if (w.url) out += `More info: ${w.url}\n`;
    if (w.location) out += sourceFrame(src, w.location);
    out += "\n";
  }
  return out;
}

/** BuildKit's errdefs.Source.Print: the lines with a little context, the range marked ">>>". */
export function sourceFrame(src: CallSource, loc: Location): string {
  const lines = src.text.split("\n");
  let start = loc.startLine;
  let end = Math.min(loc.endLine, lines.length);
  if (start < 1 || start > lines.length) return "";
  const first = start;
  const pad = end === start ? 4 : 2;
  for (let p = 0; p < pad; p++) {
    if (start > 1) start--, p++;
    if (end !== lines.length) end++, p++;
  }
  let out = `${src.name}:${first}\n--------------------\n`;
  for (let i = start; i <= end; i++) {
    const marker = i >= loc.startLine && i <= loc.endLine ? ">>>" : "   ";
    out += ` ${String(i).padStart(3)} | ${marker} ${lines[i - 1]}\n`;
  }
  return `${out}--------------------\n`;
}

function omitEmpty<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === "" || v === false || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out as Partial<T>;
}
