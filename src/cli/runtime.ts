// What main.ts hands the commands: the root abort signal, the environment, output streams, and a
// place to leave the error that ends the command (main turns it into the exit code).
import { createConsola, type ConsolaInstance } from "consola";
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
  stderrIsTTY: boolean;
  columns: () => number;
  log: ConsolaInstance;
  /** Set by a failing command; main.ts maps it to the exit code. */
  failure?: KitError;
};

export function createLogger(): ConsolaInstance {
  return createConsola({ stdout: process.stderr, stderr: process.stderr, formatOptions: { date: false } });
}

/** Runs a command body; a failure is rendered once and left for main.ts to turn into the exit code. */
export async function guarded(rt: Runtime, body: () => Promise<void>, opts: { solving?: boolean } = {}): Promise<void> {
  try {
    await body();
  } catch (e) {
    // After Ctrl-C, whatever broke on the way down is a consequence of the interrupt.
    const err = rt.signal.aborted ? toKitError(rt.signal.reason) : toKitError(e);
    rt.failure = err;
    rt.stderr(renderError(err, opts.solving ?? true));
  }
}
