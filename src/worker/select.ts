// Picks the executor that runs RUN steps, as snapshot/select.ts picks the snapshotter: runc, with a
// rootless spec when kitbuild runs in a user namespace (its own, for a user other than root, or a
// rootless container's), wrapped by the emulating executor, which runs another platform's steps
// under QEMU (through binfmt_misc, or the emulator mounted into the container and put in front of
// the command).
import { EmulatingExecutor } from "./emulation/emulating-executor.ts";
import type { Executor } from "./executor.ts";
import type { LogLimits } from "./log-limit.ts";
import type { UserMode } from "./rootless/id-map.ts";
import { RuncExecutor } from "./runc/executor.ts";

/** The settings an executor reads (control/config.ts's KitConfig has them). */
export type ExecutorSettings = {
  runc: { path: string | undefined; stateRoot: string };
  stepLogs: LogLimits;
  inUserNamespace: boolean;
  user: UserMode;
};

/** The executor for the cache root `root`; it looks for its runtime only when a step first needs it. */
export function openExecutor(settings: ExecutorSettings, root: string): Executor {
  // In a user namespace runc runs rootless (it detects that itself); the spec leaves out what only
  // the host's root may do.
  const userns = settings.inUserNamespace ? { singleId: settings.user.kind === "rootless" && settings.user.single } : undefined;
  const runc = new RuncExecutor({ root, runc: settings.runc, logLimits: settings.stepLogs, userns });
  const ownNamespaces = settings.inUserNamespace && settings.user.kind === "rootless";
  return new EmulatingExecutor(runc, { rootless: settings.inUserNamespace, ownNamespaces });
}
