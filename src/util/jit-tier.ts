// A build runs for a few seconds at most, often on two cores. JavaScriptCore's top JIT tier (FTL)
// spent 0.4-0.6 s of CPU compiling the hot loops of a 20,000-file COPY and its layer (the tar
// header writer alone twice, 90 and 70 ms) on threads the build's own work needed: that build took
// 1.79 s with FTL and 1.66 s without (medians of 7, alternating; CPU 2.96 s against 2.55 s), and a
// no-op rebuild the same either way. The runtime reads its options only when it starts, so a build
// replaces itself once by itself with FTL off (about 8 ms); a variable already set (to anything)
// is left as it is, so BUN_JSC_useFTLJIT=1 keeps FTL.
//
// The same start sets the heap's collection budget to 32 MiB instead of 8: a no-op rebuild of a
// 20,000-file context allocated about 17 MB and so stopped for two collections (16 ms of their
// cycles) in the middle of its context walk. The benchmark's peak RSS rose by 4-14 MB (B3 123-133
// MB against 119).
import { dlopen, FFIType, ptr } from "bun:ffi";
import { readFileSync } from "node:fs";

export const FTL_VARIABLE = "BUN_JSC_useFTLJIT";

/** The runtime's options for a build, as the variables it reads when it starts. */
export const BUILD_RUNTIME_OPTIONS: Record<string, string> = { [FTL_VARIABLE]: "0", BUN_JSC_largeHeapSize: String(32 * 1024 * 1024) };

/** Sets each of the build's runtime options that `env` does not set already (for a child process's environment). */
export function withBuildRuntimeOptions(env: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(BUILD_RUNTIME_OPTIONS)) env[name] ??= value;
}

/**
 * Execs this process again, same argv and environment plus the build's runtime options; returns
 * only when it does not (the FTL variable is set, /proc is missing, execve failed), and the build
 * then runs as it is.
 */
export function reexecWithBuildOptions(): void {
  if (process.env[FTL_VARIABLE] !== undefined) return;
  let argv: Buffer[];
  let env: Buffer[];
  try {
    // The bytes as the process got them: arguments and values need not be UTF-8.
    argv = nulSeparated(readFileSync("/proc/self/cmdline"));
    const added = Object.entries(BUILD_RUNTIME_OPTIONS).filter(([name]) => process.env[name] === undefined);
    env = [...nulSeparated(readFileSync("/proc/self/environ")), ...added.map(([name, value]) => Buffer.from(`${name}=${value}`))];
    const { symbols } = dlopen("libc.so.6", { execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 } });
    const strings = [Buffer.from("/proc/self/exe\0"), ...argv.map(withNul), ...env.map(withNul)];
    const table = (list: Buffer[]) => BigUint64Array.from([...list.map((b) => BigInt(ptr(b))), 0n]);
    const argvTable = table(strings.slice(1, 1 + argv.length));
    const envTable = table(strings.slice(1 + argv.length));
    symbols.execve(ptr(strings[0] as Buffer), ptr(argvTable), ptr(envTable));
  } catch {
    // No /proc or no libc: the build runs with the runtime's defaults.
  }
}

function nulSeparated(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let start = 0; start < b.length; ) {
    const end = b.indexOf(0, start);
    out.push(b.subarray(start, end < 0 ? b.length : end));
    start = end < 0 ? b.length : end + 1;
  }
  return out;
}

const withNul = (b: Buffer) => Buffer.concat([b, Buffer.alloc(1)]);
