// Whether a process still exists: used to tell what a crashed kitbuild left behind (claims,
// leases, mounts, active snapshots, containers) from what a running one holds.
import { constants } from "node:os";
import { errnoCode } from "./errors.ts";

/** A child's exit status as a shell reports it: its code, else 128 + the signal that ended it. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return signal ? 128 + ((constants.signals as Record<string, number>)[signal] ?? 0) : 255;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === "EPERM";
  }
}
