// `kitbuild prune`: remove build cache no running build holds (as `docker buildx prune`).
import { type ArgsDef, defineCommand } from "citty";
import { createInterface } from "node:readline/promises";
import { pruneCache, type PruneRequest } from "../control/cache-admin.ts";
import { parseCacheFilter } from "../control/cache-filter.ts";
import { openEnvironment } from "../control/environment.ts";
import { KitError } from "../util/errors.ts";
import { formatBytes } from "../util/units.ts";
import { usageTable, verboseRecords } from "./du.ts";
import { flagValues, sizeFlag } from "./du-prune-flags.ts";
import { guarded, type Runtime } from "./runtime.ts";
import { checkArgs } from "./strict-args.ts";

const PRUNE_ARGS = {
    all: { type: "boolean", alias: "a", description: "Also remove base image layers, downloaded blobs and untagged images (tagged images stay: see kitbuild rmi)" },
    filter: { type: "string", description: "Only records matching KEY=VALUE, KEY!=VALUE or KEY~=REGEX (until=DURATION, id, type, description); repeatable, ANDed" },
    "reserved-space": { type: "string", description: "Amount of disk space always allowed to keep for cache (e.g. 10GB)" },
    "max-used-space": { type: "string", description: "Maximum amount of disk space allowed to keep for cache" },
    "min-free-space": { type: "string", description: "Target amount of free disk space after pruning" },
    "keep-storage": { type: "string", description: "Deprecated: use --reserved-space" },
    verbose: { type: "boolean", description: "Show every removed record in detail" },
    force: { type: "boolean", alias: "f", description: "Do not prompt for confirmation" },
  } satisfies ArgsDef;

export function pruneCommand(rt: Runtime) {
  return defineCommand({
    meta: { name: "prune", description: "Remove build cache" },
    args: PRUNE_ARGS,
    run: ({ args, rawArgs }) =>
      guarded(rt, async () => {
        checkArgs("prune", rawArgs, PRUNE_ARGS);
        const req = pruneRequest(args.all === true, flagValues(rawArgs, "filter"), args as Record<string, unknown>);
        if (args["keep-storage"] !== undefined) rt.stderr('Flag --keep-storage has been deprecated, keep-storage flag has been changed to reserved-space\n');
        if (!args.force && !(await confirm(rt, req.all))) return;
        await using env = await openEnvironment({ config: rt.config(), env: rt.env, insecureRegistries: [] });
        const removed = await pruneCache(env, req);
        if (removed.length > 0) await rt.stdout(args.verbose ? verboseRecords(removed) : `Deleted build cache objects:\n${usageTable(removed)}\n\n`);
        await rt.stdout(`Total:\t${formatBytes(removed.reduce((s, r) => s + r.size, 0))}\n`);
      }),
  });
}

/** The prune the flags ask for; --keep-storage is buildx's deprecated spelling of --reserved-space. */
export function pruneRequest(all: boolean, filters: readonly string[], args: Record<string, unknown>): PruneRequest {
  // -a also removes untagged images of kitbuild's image store (as docker's image prune); tagged ones stay.
  const req: PruneRequest = all ? { all, danglingImages: true } : { all };
  const filter = parseCacheFilter("prune", filters);
  if (filter.untilMs !== undefined) req.olderThanMs = filter.untilMs;
  if (filter.selectors.length > 0) req.filter = filter;
  const size = (flag: string) => sizeFlag("prune", flag, args[flag] as string | undefined);
  const reserved = size("reserved-space");
  const keep = size("keep-storage");
  if (reserved !== undefined && keep !== undefined) throw new KitError("E_USAGE", "--keep-storage and --reserved-space cannot be used together", { hint: "--keep-storage is the deprecated name of --reserved-space" });
  const space = { reservedBytes: reserved ?? keep, maxUsedBytes: size("max-used-space"), minFreeBytes: size("min-free-space") };
  if (Object.values(space).some((v) => v !== undefined && v > 0)) req.space = space;
  return req;
}

async function confirm(rt: Runtime, all: boolean): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new KitError("E_USAGE", "prune needs confirmation and standard input is not a terminal", { hint: "pass -f to prune without a prompt" });
  }
  const what = all ? "all build cache" : "build cache that no build is using";
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`WARNING! This will remove ${what}. Are you sure you want to continue? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
