// The import rules hold for src/, and the checker does catch each kind of violation.
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { checkImports } from "../../scripts/check-imports.ts";
import { REPO, tempDir } from "../harness.ts";

function tree(files: Record<string, string>): string {
  const root = tempDir();
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(`${root}/${path}`), { recursive: true });
    writeFileSync(`${root}/${path}`, text);
  }
  return root;
}

describe("check-imports", () => {
  test("src/ follows the rules", () => {
    expect(checkImports(`${REPO}/src`)).toEqual([]);
  });

  test("a forbidden direction, a cycle, a sealed folder, an implementation behind a contract and a barrel are all reported", () => {
    const root = tree({
      "util/a.ts": 'import { x } from "../cli/b.ts";\n',
      "cli/b.ts": "export const x = 1;\n",
      "solver/c.ts": 'import { d } from "./d.ts";\nexport const c = 1;\n',
      "solver/d.ts": 'import { c } from "./c.ts";\nexport const d = 1;\n',
      "frontend/dockerfile/shell/lex.ts": 'import { y } from "../../../util/y.ts";\n',
      "util/y.ts": "export const y = 1;\n",
      "llb/index.ts": 'export { y } from "../util/y.ts";\n',
      "frontend/e.ts": 'import { z } from "../cache/z.ts";\n',
      "cache/z.ts": "export const z = 1;\n",
      "control/f.ts": 'import { r } from "../worker/runc/r.ts";\n',
      "worker/runc/r.ts": "export const r = 1;\n",
    });
    const messages = checkImports(root).map((v) => `${v.file}: ${v.message}`);
    expect(messages).toContainEqual(expect.stringContaining("util/a.ts: util must not import cli"));
    expect(messages.some((m) => /import cycle: solver\/(c|d)\.ts → solver\/(d|c)\.ts → solver\/\1\.ts/.test(m))).toBe(true);
    expect(messages).toContainEqual(expect.stringContaining("frontend/dockerfile/shell must not import"));
    expect(messages).toContainEqual(expect.stringContaining("llb/index.ts: barrel index.ts"));
    expect(messages).toContainEqual(expect.stringContaining('control/f.ts: control must not import "worker/runc/r.ts"'));
    // frontend ranks above cache but its allow-list does not name it.
    expect(messages).toContainEqual(expect.stringContaining("frontend/e.ts: frontend must not import cache"));
  });
});
