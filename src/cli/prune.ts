// `kitbuild prune`: remove build cache no running build holds (as `docker buildx prune`).
import { type ArgsDef, defineCommand } from "citty";
import { createInterface } from "node:readline/promises";
import { pruneCache, type PruneRequest } from "../control/cache-admin.ts";
import { openEnvironment } from "../control/environment.ts";
import { KitError } from "../util/errors.ts";
import { formatBytes, parseBytes, parseDuration } from "../util/units.ts";
import { usageTable } from "./du.ts";
import { guarded, type Runtime } from "./runtime.ts";
import { checkArgs } from "./strict-args.ts";

const PRUNE_ARGS = {
    all: { type: "boolean", alias: "a", description: "Also remove base image layers and downloaded blobs" },
    filter: { type: "string", description: "Only records matching: until=DURATION (last used longer ago)" },
    "keep-storage": { type: "string", description: "Keep the most recently used cache up to this size (e.g. 10GB)" },
    force: { type: "boolean", alias: "f", description: "Do not prompt for confirmation" },
  } satisfies ArgsDef;

export function pruneCommand(rt: Runtime) {
  return defineCommand({
    meta: { name: "prune", description: "Remove build cache" },
    args: PRUNE_ARGS,
    run: ({ args, rawArgs }) =>
      guarded(rt, async () => {
        checkArgs("prune", rawArgs, PRUNE_ARGS);
        const req = pruneRequest(args.all === true, args.filter as string | undefined, args["keep-storage"] as string | undefined);
        if (!args.force && !(await confirm(rt, req.all))) return;
        await using env = await openEnvironment({ config: rt.config(), env: rt.env, insecureRegistries: [] });
        const removed = await pruneCache(env, req);
        if (removed.length > 0) await rt.stdout(`Deleted build cache objects:\n${usageTable(removed)}\n\n`);
        await rt.stdout(`Total:\t${formatBytes(removed.reduce((s, r) => s + r.size, 0))}\n`);
      }),
  });
}

function pruneRequest(all: boolean, filter: string | undefined, keep: string | undefined): PruneRequest {
  const req: PruneRequest = { all };
  if (filter !== undefined) {
    const m = /^until=(.+)$/.exec(filter);
    const ms = m ? parseDuration(m[1] as string) : undefined;
    if (ms === undefined) throw new KitError("E_USAGE", `invalid --filter "${filter}"`, { hint: "use until=DURATION, e.g. --filter until=24h" });
    req.olderThanMs = ms;
  }
  if (keep !== undefined) {
    const bytes = parseBytes(keep);
    if (bytes === undefined) throw new KitError("E_USAGE", `invalid --keep-storage "${keep}"`, { hint: "use a size such as 512MB or 10GB" });
    req.keepBytes = bytes;
  }
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
