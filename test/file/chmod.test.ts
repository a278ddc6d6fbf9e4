// COPY --chmod's symbolic modes, checked against chmod(1) itself (GNU coreutils; BuildKit's mode
// parser follows BSD's setmode, which agrees with it) run with a umask of 0, on files and directories.
import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { chmodSync, lstatSync, mkdirSync, writeFileSync } from "node:fs";
import { parseMode } from "../../src/file/chmod.ts";
import { skipBecause, tempDir } from "../harness.ts";

const CHMOD = "/bin/chmod";
const skip = skipBecause(!Bun.which(CHMOD), `chmod comparison: needs ${CHMOD} (Debian coreutils)`);

/** The mode chmod(1) gives an entry of mode `start` for `spec`. */
function chmodResult(spec: string, start: number, isDir: boolean): number {
  const path = `${tempDir("kitbuild-chmod-")}/entry`;
  if (isDir) mkdirSync(path);
  else writeFileSync(path, "");
  chmodSync(path, start);
  execFileSync("sh", ["-c", 'umask 0 && exec "$0" "$1" "$2"', CHMOD, spec, path]);
  return lstatSync(path).mode & 0o7777;
}

const SPECS = [
  // BuildKit's testChmodNonOctal cases
  "go-w", "u=rw,g=r,o=r", "a+X", "u+rw,g+r,o-x,o+w",
  // more of chmod's grammar
  "+x", "-w", "=r", "a=rX", "u+s", "g+s", "ug-s", "o+t", "+t", "u=rwx,g=rx,o=", "g=u", "o=g", "u+x-w", "a-rwx,u+r",
];
const STARTS = [0o644, 0o600, 0o755, 0o124, 0o4711, 0o2775, 0o1777, 0];

/** Where GNU chmod and BSD's setmode (BuildKit's) disagree; checked apart below. */
function gnuDiffers(spec: string, start: number, isDir: boolean): boolean {
  if (spec.includes("=") && isDir && (start & 0o6000) !== 0) return true; // GNU keeps a directory's set-id bits
  if (spec.includes("=") && (start & 0o1000) !== 0) return true; // GNU's "o=" and "a=" clear the sticky bit
  return spec === "o+t"; // GNU sets the sticky bit for o
}

describe.skipIf(skip)("--chmod symbolic modes", () => {
  for (const spec of SPECS) {
    test(`"${spec}" matches chmod(1) on files and directories`, () => {
      const change = parseMode(spec);
      for (const start of STARTS) {
        for (const isDir of [false, true]) {
          if (gnuDiffers(spec, start, isDir)) continue;
          expect({ start: start.toString(8), isDir, mode: change(start, isDir).toString(8) }).toEqual({ start: start.toString(8), isDir, mode: chmodResult(spec, start, isDir).toString(8) });
        }
      }
    });
  }

  test("where chmod implementations differ, BuildKit's BSD rules apply", () => {
    expect(parseMode("u=rwx,g=rx,o=")(0o4711, true)).toBe(0o750);
    expect(parseMode("=r")(0o1777, true)).toBe(0o1444);
    expect(parseMode("a=rX")(0o1777, false)).toBe(0o1555);
    expect(parseMode("o+t")(0o644, false)).toBe(0o644);
    expect(parseMode("+t")(0o644, false)).toBe(0o1644);
    expect(parseMode("u+t")(0o755, true)).toBe(0o1755);
  });

  test("octal modes set the bits; invalid values name themselves", () => {
    expect(parseMode("0755")(0o600, false)).toBe(0o755);
    expect(parseMode("4755")(0o600, false)).toBe(0o4755);
    expect(parseMode("0")(0o644, false)).toBe(0);
    for (const bad of ["10000", "64a", "u+q", "x+u", ""]) {
      expect(() => parseMode(bad)).toThrow(`invalid chmod parameter "${bad}"`);
    }
  });
});
