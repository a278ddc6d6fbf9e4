// What `du` and `prune` share: repeated flags (citty keeps only the last of a repeated flag, and
// buildx ANDs every --filter), sizes in docker's syntax, and records as buildx prints them.
import type { UsageRecord } from "../control/cache-admin.ts";
import { KitError } from "../util/errors.ts";
import { parseBytes } from "../util/units.ts";

/** Every value of `--NAME VALUE` / `--NAME=VALUE` in `rawArgs`, in order (strict-args has checked the shape). */
export function flagValues(rawArgs: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i] as string;
    if (arg === "--") break;
    if (arg === `--${name}` && i + 1 < rawArgs.length) out.push(rawArgs[++i] as string);
    else if (arg.startsWith(`--${name}=`)) out.push(arg.slice(name.length + 3));
  }
  return out;
}

/** A size flag's bytes ("512MB", "2gb", "100"), or undefined when not given. */
export function sizeFlag(command: string, flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const bytes = parseBytes(value);
  if (bytes === undefined) throw new KitError("E_USAGE", `invalid argument "${value}" for "--${flag}" flag`, { hint: `use a size such as 512MB or 10GB (kitbuild ${command} --help)` });
  return bytes;
}

/** go-units' HumanSize: decimal units, four significant digits ("1.653GB", "8.224kB", "12B"). */
export function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** go-units' HumanDuration, as buildx prints "LAST ACCESSED" ("2 months", "About an hour"). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** Go's time.Time.String() in UTC ("2025-06-12 15:44:02.715 +0000 UTC"), as buildx's CreatedAt. */
export function goTimeString(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2025-06-12T15:44:02.715Z
  const frac = iso.slice(20, 23).replace(/0+$/, "");
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ""} +0000 UTC`;
}

/**
 * One record as `docker buildx du --format json` prints it: the formatter's fields, sorted by name
 * as Go's encoding/json sorts a map. kitbuild counts no uses of a record (UsageCount 0) and shares
 * no storage with an image store (Shared false).
 */
export function recordJson(r: UsageRecord, now = Date.now()): string {
  return JSON.stringify({
    CreatedAt: goTimeString(r.created),
    Description: r.description ?? "",
    ID: r.id,
    LastUsedAt: `${humanDuration(now - r.lastUsed)} ago`,
    Mutable: r.mutable,
    Parents: r.parent === undefined ? null : [r.parent],
    Reclaimable: r.reclaimable,
    Shared: false,
    Size: humanSize(r.size),
    Type: r.type,
    UsageCount: 0,
  }).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`); // Go escapes these
}
