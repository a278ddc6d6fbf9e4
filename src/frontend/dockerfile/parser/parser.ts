// The Dockerfile parser: directives, comments, line continuations (with comment and blank lines
// inside them), heredocs, and each instruction's line range. Produces BuildKit's AST (node.ts).
import { ShellLex } from "../shell/lex.ts";
import { isSpace, trimLeftSpace } from "./chars.ts";
import { DirectiveParser } from "./directives.ts";
import { IGNORE, LINE_PARSERS } from "./line-parsers.ts";
import { newNode, type Heredoc, type Node } from "./node.ts";
import { splitCommand } from "./split-command.ts";

/**
 * A warning the parser found (BuildKit's parser.Warning): the only one is an empty line inside a
 * continuation, at the instruction's last line. Returned as data; the build checks report it
 * (BuildKit's NoEmptyContinuation rule).
 */
export type ParseWarning = { short: string; line: number; detail: string; url: string };

const EMPTY_CONTINUATION = {
  detail: "Empty continuation lines will become errors in a future release",
  url: "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/",
};

export type ParseResult = {
  ast: Node;
  escapeToken: string;
  warnings: ParseWarning[];
  directives: Record<string, string>;
};

/** A parse failure with the line range it concerns (1-based, inclusive). */
export class DockerfileParseError extends Error {
  override name = "DockerfileParseError";
  constructor(
    message: string,
    readonly startLine: number,
    readonly endLine: number,
  ) {
    super(message);
  }
}

const HEREDOC_DIRECTIVES = new Set(["add", "copy", "run"]);
const HEREDOC_RE = /^(\d*)<<(-?)\s*([^<]*)$/;

type State = { escapeToken: string; continuation: RegExp; directives: DirectiveParser; seen: Record<string, string> };

function setEscape(state: State, token: string): void {
  if (token !== "`" && token !== "\\") throw new Error(`invalid escape token '${token}' does not match \` or \\`);
  state.escapeToken = token;
  const e = `\\${token}`;
  state.continuation = new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

export function parseDockerfile(text: string): ParseResult {
  const state: State = { escapeToken: "\\", continuation: /$^/, directives: new DirectiveParser(), seen: {} };
  setEscape(state, "\\");
  const lines = splitLines(text.replace(/^\uFEFF/, ""));
  const root = newNode();
  root.startLine = -1;
  const warnings: ParseWarning[] = [];
  let comments: string[] = [];
  let i = 0;
  let current = 0;
  const fail = (e: unknown, start: number, end: number): never => {
    throw new DockerfileParseError(e instanceof Error ? e.message : String(e), start, Math.max(start, end));
  };
  while (i < lines.length) {
    const rawLine = lines[i++] as string;
    if (isComment(rawLine)) {
      const comment = trimSpace(trimLeftSpace(rawLine).slice(1));
      // Appended in place (a node takes the array and a new one starts): copying it for every
      // comment line made a long run of comments quadratic.
      if (comment === "") comments = [];
      else comments.push(comment);
    }
    let first: string;
    try {
      const processed = processLine(state, rawLine, true);
      first = processed.text;
      if (processed.directive) comments.pop();
    } catch (e) {
      fail(e, current, 0);
    }
    current++;
    const startLine = current;
    let [chunk, done] = trimContinuation(first!, state);
    if (done && chunk.length === 0) continue;
    let line = chunk;
    let emptyContinuation = false;
    while (!done && i < lines.length) {
      const next = lines[i++] as string;
      const processed = processLine(state, next, false).text;
      current++;
      if (isComment(next)) continue;
      if (trimLeftSpace(trimNewline(processed)).length === 0) {
        emptyContinuation = true;
        continue;
      }
      [chunk, done] = trimContinuation(processed, state);
      line += chunk;
    }
    if (emptyContinuation) warnings.push({ short: `Empty continuation line found in: ${line}`, line: current, ...EMPTY_CONTINUATION });
    let child: Node;
    try {
      child = nodeFromLine(line, state.escapeToken, comments);
    } catch (e) {
      fail(e, startLine, current);
    }
    if (canContainHeredoc(child!) && line.includes("<<")) {
      let docs: Heredoc[];
      try {
        docs = heredocsFromLine(line);
      } catch (e) {
        fail(e, startLine, current);
      }
      for (const doc of docs!) {
        let content = doc.content;
        let terminated = false;
        while (i < lines.length) {
          const raw = lines[i++] as string;
          current++;
          let candidate = trimNewline(raw);
          if (doc.chomp) candidate = candidate.replace(/^\t+/, "");
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          content += raw;
        }
        if (!terminated) fail(new Error("unterminated heredoc"), startLine, current);
        child!.heredocs.push({ ...doc, content });
      }
    }
    child!.startLine = startLine;
    child!.endLine = current;
    if (root.startLine < 0) root.startLine = startLine;
    root.endLine = current;
    root.children.push(child!);
    comments = [];
  }
  if (root.startLine < 0) throw new DockerfileParseError("file with no instructions", current, current);
  return { ast: root, escapeToken: state.escapeToken, warnings, directives: state.seen };
}

function nodeFromLine(line: string, escapeToken: string, comments: string[]): Node {
  const { cmd, flags, args } = splitCommand(line, escapeToken);
  const parse = LINE_PARSERS[cmd.toLowerCase()] ?? IGNORE;
  const { node, attrs } = parse(args, escapeToken, (sub) => nodeFromLine(sub, escapeToken, []));
  const n = newNode(cmd, node);
  n.original = line;
  n.flags = flags;
  n.attributes = attrs;
  n.prevComment = comments;
  return n;
}

function canContainHeredoc(node: Node): boolean {
  let n = node;
  if (n.value.toLowerCase() === "onbuild" && n.next && n.next.children.length > 0) n = n.next.children[0] as Node;
  return HEREDOC_DIRECTIVES.has(n.value.toLowerCase()) && !n.attributes.json;
}

/** The heredocs a line opens, in order. */
function heredocsFromLine(line: string): Heredoc[] {
  const lex = new ShellLex("\\", { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  let words: string[];
  try {
    words = lex.processWords(line, EMPTY_ENV);
  } catch {
    words = [];
  }
  return words.map(parseHeredoc).filter((h): h is Heredoc => h !== undefined);
}

const EMPTY_ENV = { get: () => undefined, keys: () => [] };

export function parseHeredoc(word: string): Heredoc | undefined {
  const m = HEREDOC_RE.exec(word);
  if (!m || !m[3]) return undefined;
  const rest = m[3];
  const plain = new ShellLex("\\", { skipUnsetEnv: true }).processWords(rest, EMPTY_ENV);
  if (plain.length !== 1) return undefined;
  const raw = new ShellLex("\\", { skipUnsetEnv: true, rawQuotes: true }).processWords(rest, EMPTY_ENV);
  if (raw.length !== plain.length) throw new Error(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  return {
    name: plain[0] as string,
    expand: quotes(plain[0] as string) === quotes(raw[0] as string),
    chomp: m[2] === "-",
    fileDescriptor: m[1] ? Number(m[1]) : 0,
    content: "",
  };
}

/** Removes leading tabs from every line of a `<<-` heredoc. */
export function chompHeredocContent(src: string): string {
  return src.replace(/^\t+/gm, "");
}

function processLine(state: State, line: string, stripLeft: boolean): { text: string; directive: boolean } {
  let token = trimNewline(line);
  if (stripLeft) token = trimLeftSpace(token);
  const d = state.directives.parseLine(token);
  if (d) {
    state.seen[d.name] = d.value;
    if (d.name === "escape") setEscape(state, d.value);
  }
  return { text: isComment(token) ? "" : token, directive: d !== undefined };
}

function trimContinuation(line: string, state: State): [string, boolean] {
  if (state.continuation.test(line)) return [line.replace(state.continuation, "$1"), false];
  return [line, true];
}

function isComment(line: string): boolean {
  return trimLeftSpace(line).startsWith("#");
}

function trimNewline(s: string): string {
  return s.replace(/[\r\n]+$/, "");
}

function trimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isSpace(s[a] as string)) a++;
  while (b > a && isSpace(s[b - 1] as string)) b--;
  return s.slice(a, b);
}

/** Splits into lines that keep their line endings, like BuildKit's scanner. */
function splitLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", start)) {
    out.push(text.slice(start, i + 1));
    start = i + 1;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}
