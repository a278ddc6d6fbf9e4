// How a failed command is reported: the Dockerfile lines it concerns as a code frame (like buildx),
// then "ERROR: …" with the hint. Stack traces only for internal errors.
import type { KitError } from "../../util/errors.ts";

const CONTEXT_BEFORE = 2;
const CONTEXT_AFTER = 1;

/** `solving`: the error ended a build (buildx says "failed to solve: "); other commands say it plainly. */
export function renderError(e: KitError, solving = true): string {
  let out = "";
  if (e.location?.lines) out += codeFrame(e.location.file, e.location.startLine, e.location.endLine, e.location.lines);
  const prefix = !solving || e.code === "E_USAGE" || e.code === "E_CONFIG" || e.code === "E_CANCELED" ? "" : "failed to solve: ";
  out += `ERROR: ${prefix}${e.message}\n`;
  if (e.hint) out += `hint: ${e.hint}\n`;
  if (e.code === "E_INTERNAL" && e.cause instanceof Error && e.cause.stack) out += `${e.cause.stack}\n`;
  return out;
}

function codeFrame(file: string, start: number, end: number, lines: readonly string[]): string {
  const first = Math.max(1, start - CONTEXT_BEFORE);
  const last = Math.min(lines.length, end + CONTEXT_AFTER);
  let out = `${file}:${start === end ? start : `${start}-${end}`}\n--------------------\n`;
  for (let n = first; n <= last; n++) {
    const marker = n >= start && n <= end ? ">>>" : "   ";
    out += `${String(n).padStart(4)} | ${marker} ${lines[n - 1] ?? ""}\n`;
  }
  return `${out}--------------------\n`;
}
