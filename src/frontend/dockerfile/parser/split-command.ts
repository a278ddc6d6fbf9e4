// Splitting an instruction line into its keyword, its `--flags` and the rest.
import { splitWhitespace, trimSpace, isSpace } from "./chars.ts";

export function splitCommand(line: string, escapeToken: string): { cmd: string; flags: string[]; args: string } {
  const parts = splitWhitespace(trimSpace(line), 2);
  const cmd = parts[0] as string;
  if (parts.length < 2) return { cmd, flags: [], args: "" };
  const { rest, flags } = extractBuilderFlags(parts[1] as string, escapeToken);
  return { cmd, flags, args: trimSpace(rest) };
}

/** Leading words starting with "--" are flags (quotes and escapes removed); "--" alone ends them. */
function extractBuilderFlags(line: string, escapeToken: string): { rest: string; flags: string[] } {
  const chars = [...line];
  const words: string[] = [];
  let phase: "spaces" | "word" | "quote" = "spaces";
  let buf = "";
  let quote = "";
  let blankOK = false;
  for (let pos = 0; pos <= chars.length; pos++) {
    const atEnd = pos === chars.length;
    let ch = atEnd ? "" : (chars[pos] as string);
    if (phase === "spaces") {
      if (atEnd) break;
      if (isSpace(ch)) continue;
      if (ch !== "-" || pos + 1 === chars.length || chars[pos + 1] !== "-") return { rest: chars.slice(pos).join(""), flags: words };
      phase = "word";
    }
    if (atEnd) {
      if (buf !== "--" && (blankOK || buf.length > 0)) words.push(buf);
      break;
    }
    if (phase === "word") {
      if (isSpace(ch)) {
        phase = "spaces";
        if (buf === "--") return { rest: chars.slice(pos).join(""), flags: words };
        if (blankOK || buf.length > 0) words.push(buf);
        buf = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = "quote";
        continue;
      }
      if (ch === escapeToken) {
        if (pos + 1 === chars.length) continue;
        ch = chars[++pos] as string;
      }
      buf += ch;
      continue;
    }
    if (ch === quote) {
      phase = "word";
      continue;
    }
    if (ch === escapeToken) {
      if (pos + 1 === chars.length) {
        phase = "word";
        continue;
      }
      ch = chars[++pos] as string;
    }
    buf += ch;
  }
  return { rest: "", flags: words };
}
