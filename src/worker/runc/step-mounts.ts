// A step's mounts in OCI terms: binds and tmpfs as given, secrets as files written to the step's
// tmpfs state directory, ssh agents behind a read-only forwarding socket of the step's own. The
// forwarders are held by `held` and stop when it is disposed.
import { mkdirSync } from "node:fs";
import type { HelperTracker, Mount } from "../executor.ts";
import { secretMountOptions, writeSecretFile } from "./secret-files.ts";
import type { OciMount } from "./spec.ts";

export type StepMountContext = { stepDir: string; helpers: HelperTracker; signal: AbortSignal; held: AsyncDisposableStack };

export async function ociMounts(mounts: readonly Mount[], sc: StepMountContext): Promise<OciMount[]> {
  const out: OciMount[] = [];
  for (const [index, m] of mounts.entries()) out.push(await ociMount(m, index, sc));
  return out;
}

async function ociMount(m: Mount, index: number, sc: StepMountContext): Promise<OciMount> {
  switch (m.kind) {
    case "bind":
      return { destination: m.dest, type: "bind", source: m.source, options: ["rbind", m.readonly ? "ro" : "rw"] };
    case "tmpfs":
      return { destination: m.dest, type: "tmpfs", source: "tmpfs", options: ["nosuid", ...(m.readonly ? ["ro"] : []), ...(m.size > 0 ? [`size=${m.size}`] : [])] };
    case "secret": {
      const dir = `${sc.stepDir}/secrets`;
      mkdirSync(dir, { recursive: true, mode: 0o711 });
      const file = writeSecretFile(dir, m.data, m);
      return { destination: m.dest, type: "bind", source: file, options: secretMountOptions(m.mode) };
    }
    case "ssh": {
      const agent = await m.agentSocket(sc.helpers, sc.signal);
      // Loaded here: it brings node:net, which only a step with an ssh mount needs.
      const { startAgentProxy } = await import("./ssh-proxy.ts");
      const proxy = sc.held.use(await startAgentProxy(`${sc.stepDir}/ssh-${index}.sock`, agent, m));
      return { destination: m.dest, type: "bind", source: proxy.path, options: ["rbind"] };
    }
  }
}
