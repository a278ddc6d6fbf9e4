// Runs the e2e tests that start several builds at once on one cache root, many times, each time as on
// a fresh machine: a new TMPDIR (so new cache roots, a new test registry and new temp dirs), the
// binary compiled once into a private copy (so a rebuild of dist/ during the run cannot interfere).
// Prints each test's pass count and keeps the output of every failed run.
//
//   bun scripts/stress-concurrency.ts [--runs 20] [--keep-logs DIR] [--binary PATH (instead of compiling; an older build, to compare)]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { parseArgs } from "node:util";
import { buildBinary } from "./build.ts";

/** The concurrency tests: file and the exact name bun's -t matches. */
const TESTS = [
  { file: "test/e2e/registry-build.test.ts", name: "two builds pulling the same image into one cache at once both succeed" },
  { file: "test/e2e/cache.test.ts", name: "four builds started at once on one cache root all succeed with identical output, each step run once" },
];

const root = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({ options: { runs: { type: "string", default: "20" }, "keep-logs": { type: "string" }, binary: { type: "string" } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, not "${values.runs}"`);

const work = mkdtempSync(`${tmpdir()}/kitbuild-stress-`);
const logs = values["keep-logs"] ?? `${work}/logs`;
mkdirSync(logs, { recursive: true });
const binary = values.binary ?? `${work}/kitbuild`;
if (!values.binary) buildBinary(binary);

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const passed = new Map<string, number>(TESTS.map((t) => [t.name, 0]));
for (let run = 1; run <= runs; run++) {
  for (const t of TESTS) {
    // A fresh TMPDIR per run: every temp dir, cache root and registry the test makes is new.
    const fresh = `${work}/run-${run}`;
    mkdirSync(fresh, { recursive: true });
    const started = performance.now();
    const res = spawnSync(process.execPath, ["test", t.file, "-t", `${escape(t.name)}$`, "--timeout", "300000"], {
      cwd: root,
      encoding: "utf8",
      // KITBUILD_DEBUG: a failure kept in the logs carries its stack trace.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: fresh, KITBUILD_TEST_BINARY: binary, KITBUILD_DEBUG: "1", NO_COLOR: "1", TZ: "UTC" },
    });
    const out = `${res.stdout}${res.stderr}`;
    // bun exits 0 when the filter matched nothing: count a pass only when exactly one test passed.
    const ok = res.status === 0 && /\b1 pass\b/.test(out) && /\b0 fail\b/.test(out);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (ok) passed.set(t.name, (passed.get(t.name) ?? 0) + 1);
    else writeFileSync(`${logs}/run-${run}-${t.file.split("/").pop()}.log`, out);
    console.log(`run ${run}/${runs} ${ok ? "pass" : "FAIL"} ${seconds}s  ${t.name}`);
    rmSync(fresh, { recursive: true, force: true });
  }
}
for (const t of TESTS) console.log(`${passed.get(t.name)}/${runs} passed: ${t.name}`);
const failures = [...passed.values()].reduce((a, n) => a + (runs - n), 0);
console.log(failures === 0 ? "all passed" : `${failures} failed runs; their output is in ${logs}`);
if (values["keep-logs"] === undefined && failures === 0) rmSync(work, { recursive: true, force: true });
else if (!values.binary) rmSync(binary, { force: true });
process.exitCode = failures === 0 ? 0 : 1;
