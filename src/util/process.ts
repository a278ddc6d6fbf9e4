// Whether a process still exists: used to tell what a crashed kitbuild left behind (claims,
// leases, mounts, active snapshots, containers) from what a running one holds.
import { errnoCode } from "./errors.ts";

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === "EPERM";
  }
}
