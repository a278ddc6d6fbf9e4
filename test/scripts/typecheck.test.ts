// The whole project typechecks (strict, noUncheckedIndexedAccess, verbatimModuleSyntax).
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { REPO } from "../harness.ts";

test("tsc --noEmit passes", () => {
  const res = spawnSync(`${REPO}/node_modules/.bin/tsc`, ["--noEmit", "-p", REPO], { encoding: "utf8" });
  expect(`${res.stdout}${res.stderr}`).toBe("");
  expect(res.status).toBe(0);
}, 120_000);
