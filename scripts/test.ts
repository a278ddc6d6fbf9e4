// The whole test suite, as CI and the README run it: compiles dist/kitbuild, starts the test
// environment (registry + busybox image), runs `bun test`, and ends with "N passed, N failed"
// built from bun's JUnit report. Exits non-zero when anything failed.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { buildBinary } from "./build.ts";
import { startTestEnv } from "./test-env.ts";

const root = new URL("..", import.meta.url).pathname;

type Counts = { passed: number; failed: number; skipped: number };

function countJunit(xml: string): Counts {
  const attr = (name: string) => Number(new RegExp(`<testsuites[^>]*\\s${name}="(\\d+)"`).exec(xml)?.[1] ?? "0");
  const tests = attr("tests");
  const failed = attr("failures") + attr("errors");
  const skipped = attr("skipped");
  return { passed: tests - failed - skipped, failed, skipped };
}

async function main(): Promise<number> {
  buildBinary();
  const env = await startTestEnv();
  const reportDir = mkdtempSync(`${tmpdir()}/kitbuild-junit-`);
  const report = `${reportDir}/junit.xml`;
  try {
    const args = ["test", "--reporter=junit", `--reporter-outfile=${report}`, ...process.argv.slice(2)];
    const res = spawnSync(process.execPath, args, {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, KITBUILD_TEST_REGISTRY: env.registry, NO_COLOR: "1", TZ: "UTC" },
    });
    let counts: Counts = { passed: 0, failed: 0, skipped: 0 };
    try {
      counts = countJunit(readFileSync(report, "utf8"));
    } catch {
      // no report: the run itself broke
    }
    // A file that fails to load is not a test case in the report, but it is a failure.
    if (res.status !== 0 && counts.failed === 0) counts.failed = 1;
    if (counts.skipped > 0) console.log(`${counts.skipped} skipped (each test printed why)`);
    console.log(`${counts.passed} passed, ${counts.failed} failed`);
    return counts.failed > 0 ? 1 : 0;
  } finally {
    await env.stop();
    rmSync(reportDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
