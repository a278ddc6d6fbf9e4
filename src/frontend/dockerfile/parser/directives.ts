// Parser directives: `# syntax=…`, `# escape=…` and `# check=…` lines before anything else.
// Each may appear once; the first line that is not a directive ends them.

export type Directive = { name: string; value: string; line: number };

const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const VALID = new Set(["syntax", "escape", "check"]);

export class DirectiveParser {
  private line = 0;
  private done = false;
  private readonly seen = new Set<string>();

  /** Looks at the next line; returns the directive it holds, if any. Throws on a repeated one. */
  parseLine(text: string): Directive | undefined {
    this.line++;
    if (this.done) return undefined;
    if (!text.startsWith("#")) {
      this.done = true;
      return undefined;
    }
    const m = DIRECTIVE.exec(text.slice(1).replace(/^\s+/, ""));
    const name = m?.[1]?.toLowerCase();
    if (!m || !name || !VALID.has(name)) {
      this.done = true;
      return undefined;
    }
    if (this.seen.has(name)) throw new Error(`only one ${name} parser directive can be used`);
    this.seen.add(name);
    return { name, value: m[2] as string, line: this.line };
  }
}

/** The directives at the top of a Dockerfile, read without parsing the rest (BuildKit's DetectSyntax). */
export function readDirectives(text: string): Directive[] {
  const p = new DirectiveParser();
  const out: Directive[] = [];
  for (const line of text.replace(/^\uFEFF/, "").split("\n")) {
    let d: Directive | undefined;
    try {
      d = p.parseLine(line.replace(/\r$/, "").replace(/^[ \t]+/, ""));
    } catch {
      break; // a repeated directive: the parser reports it
    }
    if (!d) break;
    out.push(d);
  }
  return out;
}
