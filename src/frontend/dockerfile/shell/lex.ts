// Shell word expansion with BuildKit's exact rules: quotes, escapes, $VAR and ${VAR…} forms
// (defaults, alternatives, required, prefix/suffix trimming, substitution), and word splitting.
// It imports nothing internal: it is used by the parser (heredoc names) and by conversion.

export type EnvGetter = {
  get(name: string): string | undefined;
  keys(): string[];
};

export class ShellError extends Error {
  override name = "ShellError";
}

export type LexOptions = {
  rawQuotes?: boolean;
  rawEscapes?: boolean;
  skipProcessQuotes?: boolean;
  skipUnsetEnv?: boolean;
};

export type WordResult = { result: string; words: string[]; matched: Set<string>; unmatched: Set<string> };

const EOF = "";

export class ShellLex {
  constructor(
    readonly escapeToken: string,
    readonly opts: LexOptions = {},
  ) {}

  /** Expands one word (no splitting); returns the result and the variable names used. */
  processWord(word: string, env: EnvGetter): WordResult {
    return new Word(this, word, env).run();
  }

  /** Expands and splits into words, as an unquoted shell argument list. */
  processWords(word: string, env: EnvGetter): string[] {
    return new Word(this, word, env).run().words;
  }
}

class Words {
  buf = "";
  words: string[] = [];
  inWord = false;

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.buf.length > 0) {
        this.words.push(this.buf);
        this.buf = "";
        this.inWord = false;
      }
    } else {
      this.addRawChar(ch);
    }
  }

  addRawChar(ch: string): void {
    this.buf += ch;
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }

  get(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = "";
      this.inWord = false;
    }
    return this.words;
  }
}

class Word {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(
    private readonly lex: ShellLex,
    private readonly source: string,
    private readonly env: EnvGetter,
  ) {
    this.chars = [...source];
    this.rawEscapes = lex.opts.rawEscapes ?? false;
  }

  run(): WordResult {
    try {
      const [result, words] = this.processStopOn(EOF, this.rawEscapes);
      return { result, words, matched: this.matched, unmatched: this.unmatched };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new ShellError(`failed to process "${this.source}": ${msg}`);
    }
  }

  private peek(): string {
    return this.chars[this.pos] ?? EOF;
  }

  private next(): string {
    return this.chars[this.pos++] ?? EOF;
  }

  private processStopOn(stop: string, rawEscapes: boolean): [string, string[]] {
    let result = "";
    const words = new Words();
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      while (this.peek() !== EOF) {
        const ch = this.peek();
        if (stop !== EOF && ch === stop) {
          this.next();
          return [result, words.get()];
        }
        const special = this.special(ch);
        if (special) {
          const tmp = special();
          result += tmp;
          if (ch === "$") words.addString(tmp);
          else words.addRawString(tmp);
          continue;
        }
        let c = this.next();
        if (c === this.lex.escapeToken) {
          if (this.rawEscapes) {
            words.addRawChar(c);
            result += c;
          }
          c = this.next();
          if (c === EOF) break;
          words.addRawChar(c);
        } else {
          words.addChar(c);
        }
        result += c;
      }
      if (stop !== EOF) throw new ShellError(`unexpected end of statement while looking for matching ${stop}`);
      return [result, words.get()];
    } finally {
      this.rawEscapes = saved;
    }
  }

  private special(ch: string): (() => string) | undefined {
    if (ch === "$") return () => this.processDollar();
    if (ch === "<") return () => this.processPossibleHeredoc();
    if (this.lex.opts.skipProcessQuotes) return undefined;
    if (ch === "'") return () => this.processSingleQuote();
    if (ch === '"') return () => this.processDoubleQuote();
    return undefined;
  }

  private processSingleQuote(): string {
    const raw = this.lex.opts.rawQuotes;
    let result = raw ? this.next() : (this.next(), "");
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new ShellError("unexpected end of statement while looking for matching single-quote");
      if (ch === "'") return raw ? result + ch : result;
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    const raw = this.lex.opts.rawQuotes;
    let result = raw ? this.next() : (this.next(), "");
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new ShellError("unexpected end of statement while looking for matching double-quote");
      if (p === '"') {
        const ch = this.next();
        return raw ? result + ch : result;
      }
      if (p === "$") {
        result += this.processDollar();
        continue;
      }
      let ch = this.next();
      if (ch === this.lex.escapeToken) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        if (after === EOF) continue;
        if (after === '"' || after === "$" || after === this.lex.escapeToken) ch = this.next();
      }
      result += ch;
    }
  }

  private getEnv(name: string): string | undefined {
    const v = this.env.get(name);
    if (v !== undefined) this.matched.add(name);
    else this.unmatched.add(name);
    return v;
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== "{") {
      const name = this.processName();
      if (name === "") return "$";
      const value = this.getEnv(name);
      if (value === undefined && this.lex.opts.skipUnsetEnv) return `$${name}`;
      return value ?? "";
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new ShellError("syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":") throw new ShellError("syntax error: bad substitution");
    const name = this.processName();
    let ch = this.next();
    let chs = ch;
    if (ch === "}") {
      const value = this.getEnv(name);
      if (value === undefined && this.lex.opts.skipUnsetEnv) return `\${${name}}`;
      return value ?? "";
    }
    if (ch === "/") return this.processSubstitution(name);
    let nullIsUnset = false;
    if (ch === ":") {
      nullIsUnset = true;
      ch = this.next();
      chs += ch;
    }
    if (!"+-?#%".includes(ch) || ch === EOF) throw new ShellError(`unsupported modifier (${chs}) in substitution`);
    const trims = ch === "#" || ch === "%";
    if (nullIsUnset && trims) throw new ShellError(`unsupported modifier (${chs}) in substitution`);
    const word = this.stopOnOrMissing("}", trims, "syntax error: missing '}'");
    const value = this.getEnv(name);
    if (this.lex.opts.skipUnsetEnv && value === undefined) return `\${${name}${chs}${word}}`;
    const empty = value === undefined || (nullIsUnset && value === "");
    switch (ch) {
      case "-":
        return empty ? word : (value as string);
      case "+":
        return empty ? "" : word;
      case "?":
        if (value === undefined) throw new ShellError(`${name}: ${word || "is not allowed to be unset"}`);
        if (nullIsUnset && value === "") throw new ShellError(`${name}: ${word || "is not allowed to be empty"}`);
        return value;
      default: {
        const greedy = word.startsWith(ch);
        const pattern = greedy ? word.slice(1) : word;
        return ch === "%" ? trimSuffix(pattern, value ?? "", greedy) : trimPrefix(pattern, value ?? "", greedy);
      }
    }
  }

  private processSubstitution(name: string): string {
    const all = this.peek() === "/";
    if (all) this.next();
    const pattern = this.stopOnOrMissing("/", true, "syntax error: missing '/' in ${}");
    const replacement = this.stopOnOrMissing("}", true, "syntax error: missing '}'");
    const value = this.getEnv(name);
    if (this.lex.opts.skipUnsetEnv && value === undefined) return `\${${name}/${pattern}/${replacement}}`;
    const re = shellPatternToRegExp(pattern, true, false, all);
    const v = value ?? "";
    if (all) return v.replace(re, () => replacement);
    const m = re.exec(v);
    return m ? v.slice(0, m.index) + replacement + v.slice(m.index + m[0].length) : v;
  }

  private stopOnOrMissing(stop: string, rawEscapes: boolean, missing: string): string {
    try {
      return this.processStopOn(stop, rawEscapes)[0];
    } catch (e) {
      if (this.peek() === EOF) throw new ShellError(missing);
      throw e;
    }
  }

  private processName(): string {
    let name = "";
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name === "" && /^\p{Nd}$/u.test(ch)) {
        while (this.peek() !== EOF && /^\p{Nd}$/u.test(this.peek())) name += this.next();
        return name;
      }
      if (name === "" && "@*#?-$!0".includes(ch)) return this.next();
      if (!/^[\p{L}\p{Nd}_]$/u.test(ch)) break;
      name += this.next();
    }
    return name;
  }

  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== "<") return "<";
    this.next();
    let space = "";
    while (this.peek() === "\t" || this.peek() === "\r" || this.peek() === " ") space += this.next();
    return `<<${space}`;
  }
}

function isSpace(ch: string): boolean {
  return /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/.test(ch);
}

/** Turns a shell pattern (`*`, `?`, `\` escapes) into a regular expression. */
function shellPatternToRegExp(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  let out = anchored ? "^" : "";
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    let tok = chars[i] as string;
    if (tok === "*") {
      out += greedy ? "[^\\n]*" : "[^\\n]*?";
      continue;
    }
    if (tok === "?") {
      out += "[^\\n]";
      continue;
    }
    if (tok === "\\") {
      const nextCh = chars[i + 1];
      if (nextCh === "}" || nextCh === "/") continue;
      tok = chars[++i] ?? "";
      if (tok !== "*" && tok !== "?" && tok !== "\\") throw new ShellError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${tok}'`);
      out += `\\${tok}`;
      continue;
    }
    out += /[[\]{}.+()|^$/]/.test(tok) ? `\\${tok}` : tok;
  }
  return new RegExp(out, global ? "gu" : "u");
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

function reversePattern(pattern: string): string {
  const runes = [...pattern];
  const out: string[] = new Array(runes.length);
  const last = runes.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = runes[i] as string;
    const o = last - i;
    if (tok === "\\" && i !== last) {
      out[o - 1] = tok;
      out[o] = runes[i + 1] as string;
      i += 2;
    } else {
      out[o] = tok;
      i++;
    }
  }
  return out.join("");
}

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const reversed = [...value].reverse().join("");
  return [...trimPrefix(reversePattern(pattern), reversed, greedy)].reverse().join("");
}

/** An EnvGetter over "K=V" strings; windows rules compare names case-insensitively. */
export function envFromList(list: readonly string[], caseInsensitive = false): EnvGetter {
  const norm = (k: string) => (caseInsensitive ? k.toUpperCase() : k);
  const map = new Map<string, string>();
  const keys: string[] = [];
  for (const e of list) {
    const i = e.indexOf("=");
    const k = i < 0 ? e : e.slice(0, i);
    keys.push(k);
    map.set(norm(k), i < 0 ? "" : e.slice(i + 1));
  }
  return { get: (k) => map.get(norm(k)), keys: () => keys };
}
