// BuildKit's own parser and shell-expansion test data (../shared/conformance/buildkit), run whole.
// Each suite prints how many cases it ran and how many passed.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dump } from "../../src/frontend/dockerfile/parser/node.ts";
import { parseDockerfile } from "../../src/frontend/dockerfile/parser/parser.ts";
import { envFromList, ShellLex } from "../../src/frontend/dockerfile/shell/lex.ts";
import { CONFORMANCE, skipBecause } from "../harness.ts";

const PARSER = `${CONFORMANCE}/frontend/dockerfile/parser`;
const missing = skipBecause(!existsSync(CONFORMANCE), `conformance data not found at ${CONFORMANCE} (it lives in ../shared beside the checkout)`);

describe.skipIf(missing)("BuildKit conformance", () => {
  test("parser: every testfiles case dumps BuildKit's AST", () => {
    const cases = readdirSync(`${PARSER}/testfiles`).sort();
    const failures: string[] = [];
    for (const name of cases) {
      const want = readFileSync(`${PARSER}/testfiles/${name}/result`, "utf8");
      try {
        const ast = parseDockerfile(readFileSync(`${PARSER}/testfiles/${name}/Dockerfile`, "utf8")).ast;
        const got = ast.children.map((n) => `(${dump(n)})\n`).join("");
        if (got !== want) failures.push(name);
      } catch (e) {
        failures.push(`${name} (${(e as Error).message})`);
      }
    }
    console.log(`parser conformance: ran ${cases.length} cases, ${cases.length - failures.length} passed`);
    expect(failures).toEqual([]);
    expect(cases.length).toBe(33);
  });

  test("parser: every testfiles-negative case fails to parse", () => {
    const cases = readdirSync(`${PARSER}/testfiles-negative`).sort();
    const parsed = cases.filter((name) => {
      try {
        parseDockerfile(readFileSync(`${PARSER}/testfiles-negative/${name}/Dockerfile`, "utf8"));
        return true;
      } catch {
        return false;
      }
    });
    console.log(`parser negative conformance: ran ${cases.length} cases, ${cases.length - parsed.length} passed`);
    expect(parsed).toEqual([]);
    expect(cases.length).toBe(4);
  });

  test("parser: start and end lines of every instruction", () => {
    const ast = parseDockerfile(readFileSync(`${PARSER}/testfile-line/Dockerfile`, "utf8")).ast;
    const got = ast.children.map((n) => [n.startLine, n.endLine]);
    // The ranges BuildKit's TestParseLineInfo expects for this file (parser_test.go).
    expect(got).toEqual([[5, 5], [11, 12], [17, 31]]);
    expect(ast.startLine).toBe(5);
    expect(ast.endLine).toBe(31);
  });

  test("shell: every envVarTest line expands as BuildKit does", () => {
    const env = ["PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="];
    const failures: string[] = [];
    let ran = 0;
    for (const line of readFileSync(`${CONFORMANCE}/envVarTest`, "utf8").split("\n")) {
      if (line.trim() === "" || line.startsWith("#")) continue;
      const a = line.indexOf("|");
      const b = line.indexOf("|", a + 1);
      const platform = line.slice(0, a).trim();
      const input = line.slice(a + 1, b).trim();
      const want = line.slice(b + 1).trim();
      ran++;
      for (const windows of platform === "A" ? [false, true] : [platform === "W"]) {
        let got: string;
        try {
          got = new ShellLex("\\").processWord(input, envFromList(env, windows)).result;
        } catch {
          got = "error";
        }
        if (got !== want) failures.push(`${platform}|${input}| got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
      }
    }
    console.log(`envVarTest conformance: ran ${ran} lines, ${ran - new Set(failures.map((f) => f.split("|")[1])).size} passed`);
    expect(failures).toEqual([]);
    expect(ran).toBe(230);
  });

  test("shell: every wordsTest line splits into BuildKit's words", () => {
    const env: string[] = [];
    const failures: string[] = [];
    let ran = 0;
    for (const line of readFileSync(`${CONFORMANCE}/wordsTest`, "utf8").split("\n")) {
      if (line.trim() === "" || line.startsWith("#")) continue;
      if (line.startsWith("ENV ")) {
        env.push(line.slice(4));
        continue;
      }
      ran++;
      const i = line.indexOf("|");
      const input = line.slice(0, i).trim();
      const want = line.slice(i + 1).replace(/^\s+/, "").split(",");
      let got: string[];
      try {
        got = new ShellLex("\\").processWords(input, envFromList(env));
      } catch {
        got = ["error"];
      }
      if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`${input}: got ${JSON.stringify(got)}`);
    }
    console.log(`wordsTest conformance: ran ${ran} lines, ${ran - failures.length} passed`);
    expect(failures).toEqual([]);
    expect(ran).toBe(24);
  });
});
