// Character classes with Go's meanings, so splitting matches BuildKit's byte for byte.

/** Go's unicode.IsSpace. */
export function isSpace(ch: string): boolean {
  return /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/.test(ch);
}

/** BuildKit's reWhitespace: runs of tab, vertical tab, form feed, carriage return and space. */
const WHITESPACE_RUN = /[\t\v\f\r ]+/;

export function splitWhitespace(s: string, limit = -1): string[] {
  const parts: string[] = [];
  let rest = s;
  while (limit < 0 || parts.length < limit - 1) {
    const m = WHITESPACE_RUN.exec(rest);
    if (!m) break;
    parts.push(rest.slice(0, m.index));
    rest = rest.slice(m.index + m[0].length);
  }
  parts.push(rest);
  return parts;
}

export function trimLeftSpace(s: string): string {
  let i = 0;
  const chars = [...s];
  while (i < chars.length && isSpace(chars[i] as string)) i++;
  return chars.slice(i).join("");
}

export function trimSpace(s: string): string {
  const chars = [...s];
  let a = 0;
  let b = chars.length;
  while (a < b && isSpace(chars[a] as string)) a++;
  while (b > a && isSpace(chars[b - 1] as string)) b--;
  return chars.slice(a, b).join("");
}
