// What main.ts hands the commands: the root abort signal, the environment, output streams, and a
// place to leave the error that ends the command (main turns it into the exit code).
import type { ConsolaInstance } from "consola";
import type { KitConfig } from "../control/config.ts";
import { type KitError, toKitError } from "../util/errors.ts";
import { renderError } from "./render/error.ts";

export type Runtime = {
  signal: AbortSignal;
  env: Record<string, string | undefined>;
  /** kitbuild's settings, read once (on first use, so a broken config file fails the command, not start-up). */
  config: () => KitConfig;
  stdout: (chunk: Uint8Array | string) => Promise<void>;
  stderr: (text: string) => void;
  stderrIsTTY: () => boolean;
  columns: () => number;
  log: Logger;
  /** `--debug`: failures print their stack trace. */
  debug: boolean;
  /** Set by a failing command; main.ts maps it to the exit code. */
  failure?: KitError;
};

/** Warnings outside a build's progress output (consola's format). */
export type Logger = { warn(text: string): void };

/**
 * consola is loaded on the first warning: evaluating it costs ~10 ms, a third of kitbuild's
 * start-up, and most commands never warn.
 */
export function createLogger(): Logger {
  let consola: ConsolaInstance | undefined;
  const load = () => (require("consola") as typeof import("consola")).createConsola({ stdout: process.stderr, stderr: process.stderr, formatOptions: { date: false } });
  return { warn: (text) => (consola ??= load()).warn(text) };
}

/** Runs a command body; a failure is rendered once and left for main.ts to turn into the exit code. */
export async function guarded(rt: Runtime, body: () => Promise<void>, opts: { solving?: boolean } = {}): Promise<void> {
  try {
    await body();
  } catch (e) {
    // After Ctrl-C, whatever broke on the way down is a consequence of the interrupt.
    const err = rt.signal.aborted ? toKitError(rt.signal.reason) : toKitError(e);
    rt.failure = err;
    rt.stderr(renderError(err, opts.solving ?? true, rt.debug));
  }
}

/**
 * The last resort: an error that escaped every command's handler (a rejected promise nobody awaited,
 * an exception in an event handler) is reported as an internal error like any other, its trace only
 * with --debug; returns the exit code main.ts ends the process with, as Bun would have ended it.
 */
export function reportEscapedError(rt: Runtime, e: unknown): number {
  const err = rt.signal.aborted ? toKitError(rt.signal.reason) : toKitError(e);
  rt.stderr(renderError(err, false, rt.debug));
  return err.exitCode;
}
