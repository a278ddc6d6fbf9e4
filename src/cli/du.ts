// `kitbuild du`: the cache's records, sizes by kind, what is reclaimable (as `docker buildx du`).
import { type ArgsDef, defineCommand } from "citty";
import { gcLimit } from "../control/auto-gc.ts";
import { cacheUsage, type UsageRecord } from "../control/cache-admin.ts";
import { openEnvironment } from "../control/environment.ts";
import { formatBytes, relativeTime } from "../util/units.ts";
import { guarded, type Runtime } from "./runtime.ts";
import { checkArgs } from "./strict-args.ts";

const DU_ARGS = { verbose: { type: "boolean", description: "Show every record in detail" } } satisfies ArgsDef;

export function duCommand(rt: Runtime) {
  return defineCommand({
    meta: { name: "du", description: "Show disk usage of the build cache" },
    args: DU_ARGS,
    run: ({ args, rawArgs }) =>
      guarded(rt, async () => {
        checkArgs("du", rawArgs, DU_ARGS);
        const config = rt.config();
        await using env = await openEnvironment({ config, env: rt.env, insecureRegistries: [] });
        const records = await cacheUsage(env);
        const limit = gcLimit(config.gcKeepStorage, env.root);
        await rt.stdout(`${args.verbose ? verboseReport(records) : tableReport(records)}${limitLine(limit, config.gcKeepStorage === undefined)}`);
      }),
  });
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
  let out = "";
  for (const r of records) {
    out += `ID:\t\t${r.id}\n`;
    if (r.parent) out += `Parent:\t\t${r.parent}\n`;
    out += `Kind:\t\t${r.kind}\nCreated at:\t${new Date(r.created).toISOString()}\nLast used:\t${relativeTime(r.lastUsed)}\n`;
    out += `Size:\t\t${formatBytes(r.size)}\nReclaimable:\t${r.reclaimable}\n`;
    if (r.description) out += `Description:\t${r.description}\n`;
    out += "\n";
  }
  return `${out}Reclaimable:\t${formatBytes(records.filter((r) => r.reclaimable).reduce((s, r) => s + r.size, 0))}\nTotal:\t\t${formatBytes(records.reduce((s, r) => s + r.size, 0))}\n`;
}

/** The automatic GC's limit (KITBUILD_GC_KEEP_STORAGE, gc.keep-storage, or the default). */
function limitLine(limit: number, isDefault: boolean): string {
  if (limit <= 0) return "GC limit:\toff (KITBUILD_GC_KEEP_STORAGE=0)\n";
  return `GC limit:\t${formatBytes(limit)}${isDefault ? " (default: 10% of the filesystem, 2GB to 100GB)" : ""}\n`;
}

function shortId(id: string): string {
  return id.startsWith("sha256:") ? id.slice(7, 19) : id;
}
