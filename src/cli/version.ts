// `kitbuild version` and `kitbuild --version`: kitbuild's version and commit, Bun's, and the runc
// that builds would use.
import { defineCommand } from "citty";
import pkg from "../../package.json" with { type: "json" };
import { runcVersion } from "../worker/runc/run.ts";
import { guarded, type Runtime } from "./runtime.ts";

declare const KITBUILD_COMMIT: string | undefined;

const KITBUILD_VERSION: string = pkg.version;

export function commit(): string {
  return typeof KITBUILD_COMMIT === "string" ? KITBUILD_COMMIT : "dev";
}

function versionText(configuredRunc: string | undefined): string {
  const runcPath = configuredRunc || Bun.which("runc");
  const runc = runcPath ? `${runcVersion(runcPath) ?? "unusable"} (${runcPath})` : "not found (apt-get install runc)";
  return [`kitbuild ${KITBUILD_VERSION} (commit ${commit()})`, `bun ${Bun.version}`, `runc ${runc}`].join("\n");
}

export function versionCommand(rt: Runtime) {
  return defineCommand({
    meta: { name: "version", description: "Show the kitbuild version" },
    run: () =>
      guarded(rt, async () => {
        await rt.stdout(`${versionText(rt.config().runc.path)}\n`);
      }),
  });
}
