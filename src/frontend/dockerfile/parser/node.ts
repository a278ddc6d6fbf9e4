// The Dockerfile AST, shaped like BuildKit's: each instruction is a node whose `next` chain holds
// its arguments; ONBUILD nests the triggered instruction as a child. `dump` prints BuildKit's
// s-expression form, which the conformance tests compare against.

export type Heredoc = {
  name: string;
  fileDescriptor: number;
  expand: boolean;
  chomp: boolean;
  content: string;
};

export type Node = {
  value: string;
  next?: Node;
  children: Node[];
  heredocs: Heredoc[];
  attributes: Record<string, boolean>;
  original: string;
  flags: string[];
  startLine: number;
  endLine: number;
  prevComment: string[];
};

export function newNode(value = "", next?: Node): Node {
  return { value, next, children: [], heredocs: [], attributes: {}, original: "", flags: [], startLine: 0, endLine: 0, prevComment: [] };
}

export function dump(node: Node): string {
  let s = node.value.toLowerCase();
  if (node.flags.length > 0) s += ` [${node.flags.map(goQuote).join(" ")}]`;
  for (const c of node.children) s += `(${dump(c)})\n`;
  for (let n = node.next; n; n = n.next) s += ` ${n.children.length > 0 ? dump(n) : goQuote(n.value)}`;
  return s.trim();
}

/** Go's strconv.Quote: printable runes as they are, the rest escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\x07") out += "\\a";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (ch === "\v") out += "\\v";
    else if (cp === 0xfffd) out += "\\ufffd";
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (!isPrintable(cp)) out += cp > 0xffff ? `\\U${cp.toString(16).padStart(8, "0")}` : `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

function isPrintable(cp: number): boolean {
  if (cp >= 0x80 && cp < 0xa0) return false;
  return /[\p{L}\p{M}\p{N}\p{P}\p{S}\u0020]/u.test(String.fromCodePoint(cp));
}
