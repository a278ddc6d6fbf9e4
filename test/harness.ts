// Shared test helpers: a clean environment, temp dirs removed afterwards, the test registry, and
// running the compiled binary. Tests that need root or runc say so when they skip.
import { expect } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { startTestEnv, type TestEnv } from "../scripts/test-env.ts";

export const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** The compiled binary under test; KITBUILD_TEST_BINARY points at another build of it (a stress run's copy). */
export const BINARY = process.env.KITBUILD_TEST_BINARY || `${REPO}/dist/kitbuild`;
export const IS_ROOT = process.getuid?.() === 0;
export const HAS_RUNC = Bun.which("runc") !== null;
export const CONFORMANCE = `${REPO}/../shared/conformance/buildkit`;

const cleanups: Array<() => Promise<void> | void> = [];

/**
 * Removes the temp dirs and stops the registry, once every test file has run: test/preload.ts calls
 * it from a global afterAll (an afterAll in this module would run after the first file only, and
 * leave later files a stopped registry and their temp dirs behind).
 */
export async function runCleanups(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

/** Runs `fn` with the other cleanups, once every test file has run (never from a fixture's own afterAll: see above). */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

/** A temp directory removed when the test file ends. */
export function tempDir(prefix = "kitbuild-test-"): string {
  const dir = mkdtempSync(`${tmpdir()}/${prefix}`);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let env: Promise<TestEnv> | undefined;

/** The test registry: the one `bun run test` started, or one started for this test file. */
export async function testRegistry(): Promise<string> {
  const shared = process.env.KITBUILD_TEST_REGISTRY;
  if (shared) return shared;
  if (!env) {
    env = startTestEnv();
    cleanups.push(async () => (await env)?.stop());
  }
  return (await env).registry;
}

/** What this process has open under `dir` (or `dir` itself), by /proc/self/fd. */
export function openPathsUnder(dir: string): string[] {
  const targets = readdirSync("/proc/self/fd").map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return ""; // closed since it was listed
    }
  });
  return targets.filter((t) => t === dir || t.startsWith(`${dir}/`));
}

/** Skips with a printed reason: `test.skipIf(skipBecause(...))`. */
export function skipBecause(condition: boolean, reason: string): boolean {
  if (condition) console.warn(`skipping: ${reason}`);
  return condition;
}

export const NEEDS_ROOT = "needs root (CI runs as root)";
export const NEEDS_ROOT_AND_RUNC = "needs root and runc (CI runs as root with runc installed)";

export type RunResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

export type RunOptions = {
  cwd?: string;
  env?: Record<string, string>;
  stdin?: string;
  /** Called with each stderr chunk while the process runs (to react to progress). */
  onStderr?: (text: string, child: ReturnType<typeof spawn>) => void;
  timeoutMs?: number;
};

/** KITBUILD_DEBUG=1 given to the tests reaches the binary: failures then show their stack traces. */
function debugEnv(): Record<string, string> {
  return process.env.KITBUILD_DEBUG === "1" ? { KITBUILD_DEBUG: "1" } : {};
}

/** Runs the compiled binary (never the sources) in a clean environment. */
export function runKitbuild(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run \`bun run build\` (or \`bun run test\`, which builds it)`);
  return new Promise((resolve, reject) => {
    const child = spawn(BINARY, args, {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", NO_COLOR: "1", TZ: "UTC", ...debugEnv(), ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      stderr += d;
      opts.onStderr?.(stderr, child);
    });
    child.stdin.end(opts.stdin ?? "");
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** What a finished process left to assert on: its exit code and whatever output the caller kept. */
export type Exited = { code: number | null; signal?: NodeJS.Signals | null; stderr?: string; stdout?: string; out?: string; text?: string };

/**
 * Asserts a run's exit code; when it differs, the failure shows that run's stderr (and the end of
 * its stdout), so a flaky build says why it failed in the first and only run that saw it.
 */
export function expectExit(res: Exited, code: number, what = "kitbuild"): void {
  if (res.code === code) {
    expect(res.code).toBe(code);
    return;
  }
  const status = res.code === null ? `signal ${res.signal ?? "?"}` : `code ${res.code}`;
  const output = res.stderr ?? res.out ?? res.text ?? "";
  const stdout = res.stdout ? `--- stdout (last 2000 characters) ---\n${res.stdout.slice(-2000)}\n` : "";
  expect(res.code, `${what} exited with ${status}, expected ${code}\n--- stderr ---\n${output}\n${stdout}--- end ---`).toBe(code);
}

/** A context whose Dockerfile builds FROM `from` and copies one file, hello.txt, into it. */
export function helloContext(from: string): string {
  const ctx = tempDir("kitbuild-ctx-");
  writeFileSync(`${ctx}/Dockerfile`, `FROM ${from}\nCOPY hello.txt /hello.txt\n`);
  writeFileSync(`${ctx}/hello.txt`, "hello\n");
  return ctx;
}
