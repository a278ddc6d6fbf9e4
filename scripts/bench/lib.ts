// Shared pieces of the benchmarks: timing commands (median of several runs), building contexts,
// and the peers kitbuild is compared with in the same run (BuildKit through docker, and buildah).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";

export type Timing = { name: string; seconds: number[] };

/** This checkout's compiled binary (`bun run build`). */
export const KITBUILD = new URL("../../dist/kitbuild", import.meta.url).pathname;

export function run(cmd: string, args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): void {
  const res = spawnSync(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, encoding: "utf8" });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${res.status}):\n${res.stderr}`);
}

/** Runs a command `times` times and records each wall-clock duration. */
export function time(name: string, times: number, cmd: string, args: string[], opts: { env?: Record<string, string>; before?: () => void } = {}): Timing {
  const seconds: number[] = [];
  for (let i = 0; i < times; i++) {
    opts.before?.();
    const t0 = performance.now();
    run(cmd, args, opts);
    seconds.push((performance.now() - t0) / 1000);
  }
  return { name, seconds };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** A directory tree of `files` small files spread over directories of 100. */
export function manyFiles(dir: string, files: number, size = 512): void {
  const body = "x".repeat(size);
  for (let i = 0; i < files; i++) {
    const sub = `${dir}/d${Math.floor(i / 100)}`;
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(`${sub}/f${i}.txt`, `${i}\n${body}`);
  }
}

/** Whether docker (with its BuildKit) can be used here: the daemon must be running. */
export function dockerAvailable(): boolean {
  return existsSync("/usr/bin/docker") && spawnSync("/usr/bin/docker", ["info"], { stdio: "ignore" }).status === 0;
}

export function buildahAvailable(): boolean {
  return spawnSync("buildah", ["--version"], { stdio: "ignore" }).status === 0;
}

/** Prints a table of medians and each peer's time relative to kitbuild's. */
export function report(title: string, timings: Timing[]): void {
  const base = timings[0];
  console.log(`\n${title}`);
  for (const t of timings) {
    const m = median(t.seconds);
    const ratio = base ? (m / median(base.seconds)).toFixed(2) : "-";
    console.log(`  ${t.name.padEnd(28)} median ${m.toFixed(3)}s  (${t.seconds.length} runs)  ${t === base ? "" : `= ${ratio} × kitbuild`}`);
  }
}

/** A numeric `--name N` command-line option, or its default. */
export function numberArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
