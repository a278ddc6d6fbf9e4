// The network of one step, as its mode asks: the host's; an empty namespace (runc creates it); or
// the sandbox: a namespace created first and bound to a file in the step's state directory, pasta
// attached to it, then handed to runc by path. Without pasta the sandbox falls back to the host's
// network only when the build was granted network.host; otherwise the step fails with the install
// hint. Disposing stops pasta and releases the namespace.
import { KitError } from "../../util/errors.ts";
import type { HelperTracker, NetworkMode } from "../executor.ts";
import { createNetNamespace } from "./netns.ts";
import { findPasta, SANDBOX_NET, startPasta } from "./pasta.ts";

export type StepNetwork = AsyncDisposable & {
  /** What the step really gets (a sandbox may fall back to host). */
  readonly mode: NetworkMode;
  /** The sandbox's namespace file, for runc to join. */
  readonly netnsPath?: string;
  /** The nameserver pasta answers on, when it forwards to a resolver on the host's loopback. */
  readonly dnsForward?: string;
};

export const PASTA_MISSING_WARNING =
  "pasta (Debian's passt package) is not installed: RUN steps use the host's network, as --allow network.host permits; install it (apt-get install passt) to sandbox them";

export type StepNetworkOptions = {
  mode: NetworkMode;
  hostNetworkAllowed: boolean;
  /** The step's state directory (memory-backed, removed after the step). */
  stepDir: string;
  /** Whether the host's resolv.conf names a resolver on loopback (the step reaches it through pasta's DNS forwarding). */
  loopbackResolver: boolean;
  helpers: HelperTracker;
  /** Told once per executor when the sandbox falls back to the host's network. */
  warnFallback: () => void;
  signal: AbortSignal;
};

export async function openStepNetwork(opts: StepNetworkOptions): Promise<StepNetwork> {
  if (opts.mode !== "sandbox") return { mode: opts.mode, [Symbol.asyncDispose]: async () => {} };
  const pasta = findPasta();
  if (!pasta) {
    if (!opts.hostNetworkAllowed) throw pastaMissing();
    opts.warnFallback();
    return { mode: "host", [Symbol.asyncDispose]: async () => {} };
  }
  const netns = await createNetNamespace(`${opts.stepDir}/netns`, opts.signal);
  try {
    const running = await startPasta({
      pasta, netns: netns.path, pidFile: `${opts.stepDir}/pasta.pid`, dnsForward: opts.loopbackResolver, helpers: opts.helpers, signal: opts.signal,
    });
    return {
      mode: "sandbox",
      netnsPath: netns.path,
      ...(opts.loopbackResolver ? { dnsForward: SANDBOX_NET.dns } : {}),
      [Symbol.asyncDispose]: async () => {
        try {
          await running[Symbol.asyncDispose]();
        } finally {
          netns.release();
        }
      },
    };
  } catch (e) {
    netns.release();
    throw e;
  }
}

function pastaMissing(): KitError {
  return new KitError("E_RUN_NETWORK", "pasta was not found: a RUN step's sandboxed network needs it", {
    hint: "install passt (Debian/Ubuntu: apt-get install passt), or run the step with the host's network: RUN --network=host with --allow network.host",
  });
}
