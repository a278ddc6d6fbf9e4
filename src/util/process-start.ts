// A process's identity across pid reuse: its pid together with its start time (field 22 of
// /proc/PID/stat, in clock ticks since boot). Records that name a process (leases, claims, mount
// points, ingest files) carry both, so a later process that happens to get the same pid never
// keeps a dead process's garbage alive.
import { readFileSync } from "node:fs";

/** The start time of `pid` as /proc reports it, or undefined when there is no such process. */
export function processStartTime(pid: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces or ")": fields after the last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state), so field 22 is rest[19].
  return rest[19];
}

let own: string | undefined;

/** This process's start time (read once). */
export function ownStartTime(): string {
  own ??= processStartTime(process.pid) ?? "0";
  return own;
}

/** This process as "PID-START", the prefix of the names of what it creates on disk. */
export function ownProcessTag(): string {
  return `${process.pid}-${ownStartTime()}`;
}

/** Whether the process `pid` that started at `start` still runs (not another that reused its pid). */
export function isSameProcessAlive(pid: number, start: string): boolean {
  if (pid === process.pid) return start === ownStartTime();
  return processStartTime(pid) === start;
}
