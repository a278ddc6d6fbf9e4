// The sandboxed networks of one executor's steps, each made ahead of its step where it can be and
// torn down after it. Making one (unshare, then pasta until it has configured the namespace) took
// 40-80 ms, most of it pasta's own start, and tearing it down (pasta's exit, the unmounts) another
// 17-46 ms; RUN steps usually follow one another, and each waited for both. Now a network is
// made ahead: for a step expected to run (its key missed the cache, its inputs are being made),
// and, while other sandboxed steps of the build have yet to start, by the step that takes one, for
// the next; and a step's network is torn down in the background once its container is gone.
// Each network serves one step only and lives in a state directory of its own ("kitbuild-<pid>-<n>",
// so the watchdog and the next start's cleanup find it as they find a step's). release() waits for
// every teardown and releases the network made ahead and not taken.
import { canceledError } from "../../util/abort.ts";
import type { HelperTracker } from "../executor.ts";
import type { StepNetwork } from "../network/step-network.ts";
import { openStepDir } from "./step-dir.ts";

/** Makes a sandboxed network whose namespace and pasta files live in `dir`. */
export type NetworkMaker = (dir: string, helpers: HelperTracker, signal: AbortSignal) => Promise<StepNetwork>;

export class SandboxNetworks {
  private next: Promise<StepNetwork> | undefined;
  private readonly teardowns = new Set<Promise<void>>();
  private readonly released = new AbortController();

  /** `newDirId` names each network's state directory (unique in this process, as a container's). */
  constructor(
    private readonly root: string,
    private readonly newDirId: () => string,
    private readonly make: NetworkMaker,
  ) {}

  /**
   * A network for one step: the one made ahead, else a new one. With `more` (other sandboxed steps
   * have yet to start), the next one is started at once. Disposing the returned network (once
   * the step's container is deleted) only starts its teardown, unless `signal` was aborted.
   */
  async take(helpers: HelperTracker, signal: AbortSignal, more: boolean): Promise<StepNetwork> {
    const ahead = this.next;
    this.next = undefined;
    if (more) this.makeAhead(helpers);
    // One made ahead that failed is made again for the step, whose own error then says why.
    const network = await ahead?.catch(() => undefined);
    if (signal.aborted) {
      if (network) this.retire(network);
      throw canceledError(signal);
    }
    const taken = network ?? (await this.inOwnDir(helpers, signal));
    // An interrupted step's network is gone before its error is: a second Ctrl-C exits at once.
    return { ...taken, [Symbol.asyncDispose]: async () => (signal.aborted ? taken[Symbol.asyncDispose]() : this.retire(taken)) };
  }

  /** Starts making the next step's network, unless one is made or being made already. */
  makeAhead(helpers: HelperTracker): void {
    if (this.next || this.released.signal.aborted) return;
    this.next = this.inOwnDir(helpers, this.released.signal);
    // Awaited by the step that takes it, or by release().
    this.next.catch(() => {});
  }

  /** Stops making networks ahead, releases the one not taken and waits for every teardown. */
  async release(): Promise<void> {
    this.released.abort();
    const ahead = this.next;
    this.next = undefined;
    const network = await ahead?.catch(() => undefined);
    if (network) this.retire(network);
    await Promise.all(this.teardowns);
  }

  /**
   * Tears `network` down in the background. Its parts never throw but for an unexpected unmount
   * error, which leaves the directory to the next start's cleanup (it is named after this process).
   */
  private retire(network: StepNetwork): void {
    const teardown: Promise<void> = Promise.resolve(network[Symbol.asyncDispose]())
      .catch(() => {})
      .finally(() => this.teardowns.delete(teardown));
    this.teardowns.add(teardown);
  }

  private async inOwnDir(helpers: HelperTracker, signal: AbortSignal): Promise<StepNetwork> {
    const dir = openStepDir(this.root, this.newDirId());
    let network: StepNetwork;
    try {
      network = await this.make(dir.path, helpers, signal);
    } catch (e) {
      await dir[Symbol.asyncDispose]();
      throw e;
    }
    return {
      ...network,
      [Symbol.asyncDispose]: async () => {
        try {
          await network[Symbol.asyncDispose]();
        } finally {
          await dir[Symbol.asyncDispose]();
        }
      },
    };
  }
}
