// Character classes with Go's meanings, so splitting matches BuildKit's byte for byte.

/** Go's unicode.IsSpace (all of its spaces are single UTF-16 units, so a surrogate is never one). */
export function isSpace(ch: string): boolean {
  return ch.length === 1 && SPACES.has(ch.charCodeAt(0));
}

const SPACES = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007,
  0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

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

// Both trims walk UTF-16 units: a space is one unit and never half of a surrogate pair, so this
// trims exactly what Go's rune-wise loop does, without copying the string into an array first.
export function trimLeftSpace(s: string): string {
  let i = 0;
  while (i < s.length && SPACES.has(s.charCodeAt(i))) i++;
  return i === 0 ? s : s.slice(i);
}

export function trimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && SPACES.has(s.charCodeAt(a))) a++;
  while (b > a && SPACES.has(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}
