// How each instruction's arguments become a node chain (BuildKit's dispatch table): JSON or shell
// form, whitespace-separated lists, key=value pairs, ONBUILD's nested instruction, HEALTHCHECK.
import { isSpace, splitWhitespace, trimLeftSpace } from "./chars.ts";
import { newNode, type Node } from "./node.ts";

export type LineParser = (rest: string, escapeToken: string, parseSub: (line: string) => Node) => {
  node: Node | undefined;
  attrs: Record<string, boolean>;
};

class NotStringArray extends Error {}

export const LINE_PARSERS: Record<string, LineParser> = {
  add: (r) => maybeJSONToList(r),
  arg: (r, e) => ({ node: chain(parseWords(r, e)), attrs: {} }),
  cmd: (r) => maybeJSON(r),
  copy: (r) => maybeJSONToList(r),
  entrypoint: (r) => maybeJSON(r),
  env: (r, e) => ({ node: parseNameVal(r, "ENV", e), attrs: {} }),
  expose: (r) => ({ node: whitespaceDelimited(r), attrs: {} }),
  from: (r) => ({ node: whitespaceDelimited(r), attrs: {} }),
  healthcheck: (r) => healthConfig(r),
  label: (r, e) => ({ node: parseNameVal(r, "LABEL", e), attrs: {} }),
  maintainer: (r) => ({ node: r === "" ? undefined : newNode(r), attrs: {} }),
  onbuild: (r, _e, parseSub) => {
    if (r === "") return { node: undefined, attrs: {} };
    const n = newNode();
    n.children.push(parseSub(r));
    return { node: n, attrs: {} };
  },
  run: (r) => maybeJSON(r),
  shell: (r) => maybeJSON(r),
  stopsignal: (r) => ({ node: r === "" ? undefined : newNode(r), attrs: {} }),
  user: (r) => ({ node: r === "" ? undefined : newNode(r), attrs: {} }),
  volume: (r) => maybeJSONToList(r),
  workdir: (r) => ({ node: r === "" ? undefined : newNode(r), attrs: {} }),
};

/** Unknown instructions parse to an empty node; conversion reports them. */
export const IGNORE: LineParser = () => ({ node: newNode(), attrs: {} });

function chain(values: string[]): Node | undefined {
  let root: Node | undefined;
  let prev: Node | undefined;
  for (const v of values) {
    const n = newNode(v);
    if (prev) prev.next = n;
    else root = n;
    prev = n;
  }
  return root;
}

/** Splits on whitespace outside quotes; quotes and escapes are kept for later expansion. */
function parseWords(rest: string, escapeToken: string): string[] {
  const chars = [...rest];
  const words: string[] = [];
  let phase: "spaces" | "word" | "quote" = "spaces";
  let quote = "";
  let blankOK = false;
  let buf = "";
  for (let pos = 0; pos <= chars.length; pos++) {
    const atEnd = pos === chars.length;
    let ch = atEnd ? "" : (chars[pos] as string);
    if (phase === "spaces") {
      if (atEnd) break;
      if (isSpace(ch)) continue;
      phase = "word";
    }
    if (atEnd) {
      if (blankOK || buf.length > 0) words.push(buf);
      break;
    }
    if (phase === "word") {
      if (isSpace(ch)) {
        phase = "spaces";
        if (blankOK || buf.length > 0) words.push(buf);
        buf = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = "quote";
      }
      if (ch === escapeToken) {
        if (pos + 1 === chars.length) continue;
        buf += ch;
        ch = chars[++pos] as string;
      }
      buf += ch;
      continue;
    }
    if (ch === quote) phase = "word";
    if (ch === escapeToken && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = "word";
        continue;
      }
      buf += ch;
      ch = chars[++pos] as string;
    }
    buf += ch;
  }
  return words;
}

function keyValue(key: string, value: string, sep: string): Node {
  return newNode(key, newNode(value, newNode(sep)));
}

function parseNameVal(rest: string, key: string, escapeToken: string): Node | undefined {
  const words = parseWords(rest, escapeToken);
  if (words.length === 0) return undefined;
  if (!(words[0] as string).includes("=")) {
    const parts = splitWhitespace(rest, 2);
    if (parts.length < 2) throw new Error(`${key} must have two arguments`);
    return keyValue(parts[0] as string, parts[1] as string, "");
  }
  let root: Node | undefined;
  let tail: Node | undefined;
  for (const word of words) {
    const eq = word.indexOf("=");
    if (eq < 0) throw new Error(`Syntax error - can't find = in "${word}". Must be of the form: name=value`);
    const n = keyValue(word.slice(0, eq), word.slice(eq + 1), "=");
    if (tail) tail.next = n;
    else root = n;
    tail = n.next?.next;
  }
  return root;
}

function whitespaceDelimited(rest: string): Node | undefined {
  if (rest === "") return undefined;
  return chain(splitWhitespace(rest));
}

function parseJSON(rest: string): Node | undefined | Error {
  const trimmed = trimLeftSpace(rest);
  if (!trimmed.startsWith("[")) return new Error("not a JSON array");
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (e) {
    return e as Error;
  }
  if (!Array.isArray(parsed)) return new Error("not a JSON array");
  if (parsed.some((v) => typeof v !== "string")) throw new NotStringArray("when using JSON array syntax, arrays must be comprised of strings only");
  return chain(parsed as string[]);
}

function maybeJSON(rest: string): { node: Node | undefined; attrs: Record<string, boolean> } {
  if (rest === "") return { node: undefined, attrs: {} };
  const json = parseJSON(rest);
  if (!(json instanceof Error)) return { node: json, attrs: { json: true } };
  return { node: newNode(rest), attrs: {} };
}

function maybeJSONToList(rest: string): { node: Node | undefined; attrs: Record<string, boolean> } {
  const json = parseJSON(rest);
  if (!(json instanceof Error)) return { node: json, attrs: { json: true } };
  return { node: whitespaceDelimited(rest), attrs: {} };
}

function healthConfig(rest: string): { node: Node | undefined; attrs: Record<string, boolean> } {
  const m = /^(\S*)(\s*)([\s\S]*)$/.exec(rest);
  const typ = m?.[1] ?? "";
  if (typ === "") return { node: undefined, attrs: {} };
  const cmd = maybeJSON(m?.[3] ?? "");
  const n = newNode(typ);
  n.next = cmd.node;
  return { node: n, attrs: cmd.attrs };
}
