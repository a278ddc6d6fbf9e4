// How a failed command is reported: the Dockerfile lines it concerns as a code frame (like buildx),
// then "ERROR: …" with the hint. Stack traces only with --debug.
import type { KitError } from "../../util/errors.ts";

const CONTEXT_BEFORE = 2;
const CONTEXT_AFTER = 1;

/**
 * `solving`: the error ended a build (buildx says "failed to solve: "); other commands say it plainly.
 * `debug` (`--debug`): the stack trace follows; without it an internal error says how to get one.
 */
export function renderError(e: KitError, solving = true, debug = false): string {
  let out = "";
  if (e.location?.lines) out += codeFrame(e.location.file, e.location.startLine, e.location.endLine, e.location.lines);
  const prefix = !solving || e.code === "E_USAGE" || e.code === "E_CONFIG" || e.code === "E_CANCELED" ? "" : "failed to solve: ";
  const internal = e.code === "E_INTERNAL";
  const message = internal && !e.message.startsWith(INTERNAL_PREFIX) ? `${INTERNAL_PREFIX}${e.message}` : e.message;
  out += `ERROR: ${prefix}${message}\n`;
  if (e.hint) out += `hint: ${e.hint}\n`;
  if (internal) out += debug ? "this is a bug in kitbuild; please report it with this output\n" : BUG_LINE;
  if (debug) out += stackOf(e);
  return out;
}

const INTERNAL_PREFIX = "internal error: ";
const BUG_LINE = "this is a bug in kitbuild; please report it with the output of the same command run with --debug (which adds the stack trace)\n";

/** The trace of the innermost cause that has one (where the failure started), else the error's own. */
function stackOf(e: KitError): string {
  let stack = e.stack;
  for (let c: unknown = e.cause, depth = 0; c instanceof Error && depth < 8; c = c.cause, depth++) if (c.stack) stack = c.stack;
  return stack ? `${stack}\n` : "";
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
