// Reading .dockerignore files: one pattern per line, `#` comments, blank lines ignored; patterns
// are cleaned and a leading "/" dropped, as moby does. Matching is in util/patterns.ts.
import { posix } from "node:path";

export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.replace(/^\uFEFF/, "").split(/\r?\n/)) {
    if (raw.startsWith("#")) continue;
    let pattern = raw.trim();
    if (pattern === "") continue;
    let invert = false;
    if (pattern.startsWith("!")) {
      invert = true;
      pattern = pattern.slice(1).trim();
    }
    if (pattern.length > 0) {
      pattern = posix.normalize(pattern);
      if (pattern.length > 1 && pattern.startsWith("/")) pattern = pattern.slice(1);
      if (pattern.length > 1 && pattern.endsWith("/")) pattern = pattern.slice(0, -1);
    }
    out.push(invert ? `!${pattern}` : pattern);
  }
  return out;
}
