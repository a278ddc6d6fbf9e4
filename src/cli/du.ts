// `kitbuild du`: the cache's records, sizes by kind, what is reclaimable (as `docker buildx du`).
import { type ArgsDef, defineCommand } from "citty";
import { gcLimit } from "../control/auto-gc.ts";
import { cacheUsage, type UsageRecord } from "../control/cache-admin.ts";
import { type CacheFilter, matchesFilter, parseCacheFilter, shortId } from "../control/cache-filter.ts";
import { openEnvironment } from "../control/environment.ts";
import { KitError } from "../util/errors.ts";
import { formatBytes, relativeTime } from "../util/units.ts";
import { flagValues, recordJson } from "./du-prune-flags.ts";
import { guarded, type Runtime } from "./runtime.ts";
import { checkArgs } from "./strict-args.ts";

const DU_ARGS = {
  verbose: { type: "boolean", description: 'Show every record in detail (shorthand for "--format=pretty")' },
  filter: { type: "string", description: "Only records matching KEY=VALUE, KEY!=VALUE or KEY~=REGEX (id, type, description, until); repeatable, ANDed" },
  format: { type: "string", description: "table (default), pretty, or json (one object per line, buildx's fields)" },
} satisfies ArgsDef;

type DuFormat = "table" | "pretty" | "json";

function duFormat(format: string | undefined, verbose: boolean): DuFormat {
  if (format !== undefined && verbose) throw new KitError("E_USAGE", "--format and --verbose cannot be used together", { hint: "use --format=pretty or --verbose" });
  if (format === undefined) return verbose ? "pretty" : "table";
  if (format === "table" || format === "pretty" || format === "json") return format;
  throw new KitError("E_USAGE", `unsupported --format "${format}"`, { hint: "kitbuild du takes --format table, pretty or json (no Go templates)" });
}

export function duCommand(rt: Runtime) {
  return defineCommand({
    meta: { name: "du", description: "Show disk usage of the build cache" },
    args: DU_ARGS,
    run: ({ args, rawArgs }) =>
      guarded(rt, async () => {
        checkArgs("du", rawArgs, DU_ARGS);
        const format = duFormat(args.format as string | undefined, args.verbose === true);
        const filter = parseCacheFilter("du", flagValues(rawArgs, "filter"));
        const config = rt.config();
        await using env = await openEnvironment({ config, env: rt.env, insecureRegistries: [] });
        const records = selectRecords(await cacheUsage(env), filter);
        if (format === "json") {
          await rt.stdout(records.map((r) => `${recordJson(r)}\n`).join(""));
          return;
        }
        const limit = gcLimit(config.gcKeepStorage, env.root);
        await rt.stdout(`${format === "pretty" ? verboseReport(records) : tableReport(records)}${limitLine(limit, config.gcKeepStorage === undefined)}`);
      }),
  });
}

/** The records `--filter` selects (until=: last used longer ago than the duration, as prune reads it). */
function selectRecords(records: UsageRecord[], filter: CacheFilter): UsageRecord[] {
  const now = Date.now();
  return records.filter((r) => matchesFilter(filter, r, now));
}

export function usageTable(records: UsageRecord[]): string {
  const rows = [["ID", "KIND", "RECLAIMABLE", "SIZE", "LAST ACCESSED"]];
  for (const r of records) rows.push([shortId(r.id), r.kind, String(r.reclaimable), formatBytes(r.size), relativeTime(r.lastUsed)]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length))) ?? [];
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd((widths[i] as number) + 2))).join("")).join("\n");
}

function tableReport(records: UsageRecord[]): string {
  const kinds = new Map<string, { n: number; size: number; reclaimable: number }>();
  for (const r of records) {
    const k = kinds.get(r.kind) ?? { n: 0, size: 0, reclaimable: 0 };
    k.n++;
    k.size += r.size;
    if (r.reclaimable) k.reclaimable += r.size;
    kinds.set(r.kind, k);
  }
  let out = records.length > 0 ? `${usageTable(records)}\n\n` : "";
  for (const [kind, k] of [...kinds].sort()) {
    out += `${kind.padEnd(8)} ${String(k.n).padStart(5)} records  ${formatBytes(k.size).padStart(10)}  (${formatBytes(k.reclaimable)} reclaimable)\n`;
  }
  out += `Reclaimable:\t${formatBytes(records.filter((r) => r.reclaimable).reduce((s, r) => s + r.size, 0))}\n`;
  out += `Total:\t\t${formatBytes(records.reduce((s, r) => s + r.size, 0))}\n`;
  return out;
}

function verboseReport(records: UsageRecord[]): string {
  return `${verboseRecords(records)}Reclaimable:\t${formatBytes(records.filter((r) => r.reclaimable).reduce((s, r) => s + r.size, 0))}\nTotal:\t\t${formatBytes(records.reduce((s, r) => s + r.size, 0))}\n`;
}

/** Each record's fields, one block per record (du --verbose, prune --verbose). */
export function verboseRecords(records: UsageRecord[]): string {
  let out = "";
  for (const r of records) {
    out += `ID:\t\t${r.id}\n`;
    if (r.parent) out += `Parent:\t\t${r.parent}\n`;
    out += `Kind:\t\t${r.kind}\nType:\t\t${r.type}\nCreated at:\t${new Date(r.created).toISOString()}\nLast used:\t${relativeTime(r.lastUsed)}\n`;
    out += `Size:\t\t${formatBytes(r.size)}\nReclaimable:\t${r.reclaimable}\n`;
    if (r.description) out += `Description:\t${r.description}\n`;
    out += "\n";
  }
  return out;
}

/** The automatic GC's limit (KITBUILD_GC_KEEP_STORAGE, gc.keep-storage, or the default). */
function limitLine(limit: number, isDefault: boolean): string {
  if (limit <= 0) return "GC limit:\toff (KITBUILD_GC_KEEP_STORAGE=0)\n";
  return `GC limit:\t${formatBytes(limit)}${isDefault ? " (default: 10% of the filesystem, 2GB to 100GB)" : ""}\n`;
}
