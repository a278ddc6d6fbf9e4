// File names are bytes, kitbuild's paths are strings: readdir decodes a name that is not valid UTF-8
// with U+FFFD in place of the bad bytes, and that string names no file. Until names are carried as
// bytes end to end (as BuildKit does), such a name is a clear error that shows its bytes.
import { readdirSync } from "node:fs";
import { KitError, errnoCode } from "../util/errors.ts";

const REPLACEMENT = "\uFFFD";

/**
 * For a failed lstat/open of `host` (a path built from names readdir returned): the KitError to
 * throw when a component of it is a name that is not valid UTF-8, else undefined (the failure is
 * something else).
 */
export function undecodableNameError(host: string, e: unknown): KitError | undefined {
  if (!host.includes(REPLACEMENT)) return undefined;
  const code = errnoCode(e);
  if (code !== "ENOENT" && code !== "ENOTDIR") return undefined;
  const parts = host.split("/");
  for (let i = 1; i < parts.length; i++) {
    const name = parts[i] as string;
    if (!name.includes(REPLACEMENT)) continue;
    const parent = parts.slice(0, i).join("/") || "/";
    const raw = rawName(parent, name);
    if (!raw) continue;
    const path = Buffer.concat([Buffer.from(`${parent === "/" ? "" : parent}/`), raw, Buffer.from(parts.slice(i + 1).map((p) => `/${p}`).join(""))]);
    return new KitError("E_FS_NAME_NOT_UTF8", `file name is not valid UTF-8: ${quoteBytes(path)}`, {
      cause: e,
      hint: "kitbuild cannot carry file names that are not UTF-8 yet (BuildKit can): rename the file (for example with `convmv`), or leave it out (for the build context, with .dockerignore)",
    });
  }
  return undefined;
}

/** The bytes of the entry of `dir` that readdir shows as `lossy`, when it is not valid UTF-8. */
function rawName(dir: string, lossy: string): Buffer | undefined {
  let names: Buffer[];
  try {
    names = readdirSync(dir, { encoding: "buffer" });
  } catch {
    return undefined;
  }
  return names.find((b) => b.toString("utf8") === lossy && !b.equals(Buffer.from(lossy)));
}

/** Go's %q of bytes: valid printable UTF-8 as it is, everything else escaped (\xNN for a bad byte). */
export function quoteBytes(bytes: Uint8Array): string {
  let out = '"';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    const seq = len > 0 ? bytes.subarray(i, i + len) : undefined;
    const ch = seq && seq.length === len ? Buffer.from(seq).toString("utf8") : undefined;
    // A sequence decodes to one character exactly when it is valid (else U+FFFD stands for it).
    if (ch === undefined || (len > 1 && (ch.includes(REPLACEMENT) || !Buffer.from(ch).equals(seq as Uint8Array)))) {
      out += `\\x${b.toString(16).padStart(2, "0")}`;
      i++;
      continue;
    }
    out += escapeChar(ch);
    i += len;
  }
  return `${out}"`;
}

function escapeChar(ch: string): string {
  if (ch === '"') return '\\"';
  if (ch === "\\") return "\\\\";
  const cp = ch.codePointAt(0) as number;
  if (cp < 0x20 || cp === 0x7f) return `\\x${cp.toString(16).padStart(2, "0")}`;
  return ch;
}
