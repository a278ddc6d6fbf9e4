// Source wildcards as COPY understands them (Go's filepath.Match per path component): `*`, `?`,
// `[…]` classes and `\` escapes, never crossing a "/". Matches are resolved inside the root.
import { lstatSync, readdirSync } from "node:fs";
import { resolveInRoot } from "../fs/fs-safe.ts";

export function hasWildcard(path: string): boolean {
  return /[*?[]/.test(path.replace(/\\./g, ""));
}

/** Paths (absolute within the root, sorted) that match `pattern`. */
export function resolveWildcards(root: string, pattern: string): string[] {
  const parts = pattern.split("/").filter((p) => p !== "" && p !== ".");
  let current = ["/"];
  for (const part of parts) {
    const next: string[] = [];
    for (const dir of current) {
      const child = (name: string) => (dir === "/" ? `/${name}` : `${dir}/${name}`);
      if (!hasWildcard(part)) {
        const candidate = child(unescape(part));
        if (exists(root, candidate)) next.push(candidate);
        continue;
      }
      const re = componentRegExp(part);
      for (const name of listDir(resolveInRoot(root, dir, true)).sort()) if (re.test(name)) next.push(child(name));
    }
    current = next;
  }
  return parts.length === 0 ? ["/"] : current;
}

function componentRegExp(part: string): RegExp {
  let out = "^";
  for (let i = 0; i < part.length; i++) {
    const ch = part[i] as string;
    if (ch === "*") out += ".*";
    else if (ch === "?") out += ".";
    else if (ch === "\\") out += escapeRe(part[++i] ?? "\\");
    else if (ch === "[") {
      const end = part.indexOf("]", i + 2);
      if (end < 0) out += "\\[";
      else {
        let cls = part.slice(i + 1, end);
        if (cls.startsWith("^")) cls = `!${cls.slice(1)}`;
        out += cls.startsWith("!") ? `[^${cls.slice(1)}]` : `[${cls}]`;
        i = end;
      }
    } else out += escapeRe(ch);
  }
  return new RegExp(`${out}$`, "s");
}

function escapeRe(ch: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(ch) ? `\\${ch}` : ch;
}

function unescape(part: string): string {
  return part.replace(/\\(.)/g, "$1");
}

function exists(root: string, path: string): boolean {
  try {
    lstatSync(resolveInRoot(root, path, false));
    return true;
  } catch {
    return false;
  }
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}
