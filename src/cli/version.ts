// `kitbuild version` and `kitbuild --version`: kitbuild's version and commit, Bun's, and the runc
// that builds would use.
import { defineCommand } from "citty";
import pkg from "../../package.json" with { type: "json" };
import { readFileSync } from "node:fs";
import type { KitConfig } from "../control/config.ts";
import { formatMapping, mappingFor } from "../worker/rootless/id-map.ts";
import { runcVersion } from "../worker/runc/run.ts";
import { guarded, type Runtime } from "./runtime.ts";
import { checkArgs } from "./strict-args.ts";

declare const KITBUILD_COMMIT: string | undefined;

const KITBUILD_VERSION: string = pkg.version;

export function commit(): string {
  return typeof KITBUILD_COMMIT === "string" ? KITBUILD_COMMIT : "dev";
}

async function versionText(configuredRunc: string | undefined): Promise<string> {
  const runcPath = configuredRunc || Bun.which("runc");
  const runc = runcPath ? `${(await runcVersion(runcPath)) ?? "unusable"} (${runcPath})` : "not found (apt-get install runc)";
  return [`kitbuild ${KITBUILD_VERSION} (commit ${commit()})`, `bun ${Bun.version}`, `runc ${runc}`].join("\n");
}

/** How builds run for this user: as root, rootless with the ranges mapped, or with a single id. */
function modeText(config: KitConfig): string {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return config.inUserNamespace ? "mode: root in a user namespace (runc runs rootless)" : "mode: root";
  const { mapping, single } = mappingFor(uid, process.getgid?.() ?? 0);
  if (single) return `mode: single-id (no subordinate ids in /etc/subuid and /etc/subgid; uids ${formatMapping(mapping.uids)})`;
  return `mode: rootless (uids ${formatMapping(mapping.uids)}, gids ${formatMapping(mapping.gids)})`;
}

/** The snapshotter builds use and why. */
function snapshotterText(config: KitConfig): string {
  if (config.snapshotter) return `snapshotter: ${config.snapshotter} (KITBUILD_SNAPSHOTTER or the config file)`;
  try {
    const recorded = readFileSync(`${config.root}/snapshotter`, "utf8").trim();
    return `snapshotter: ${recorded} (recorded in the cache root ${config.root})`;
  } catch {
    return `snapshotter: chosen by the first build in ${config.root} (overlay where it mounts, else native)`;
  }
}

export function versionCommand(rt: Runtime) {
  return defineCommand({
    meta: { name: "version", description: "Show the kitbuild version" },
    run: ({ rawArgs }) =>
      guarded(rt, async () => {
        checkArgs("version", rawArgs, {});
        const config = rt.config();
        await rt.stdout(`${[await versionText(config.runc.path), modeText(config), snapshotterText(config)].join("\n")}\n`);
      }),
  });
}
