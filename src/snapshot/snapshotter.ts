// The snapshotter contract. A snapshot is a filesystem tree stacked on a parent; a writable
// ("active") one is prepared, changed through a mount, then committed and never changed again.
// A merge snapshot stacks other snapshots' layers (COPY --link). Each snapshot that is not a merge
// has its own changes, which diff() writes as an OCI layer. Implementations: overlay.ts (kernel
// overlayfs) and native.ts (full copies). Both are safe to use from several builds at once.
import type { DiffOptions, LayerDiff } from "./layer-diff.ts";

export type Mounted = AsyncDisposable & {
  /** Host path of the mounted tree. Read-only mounts must not be written through this path. */
  readonly path: string;
};

export interface ActiveSnapshot extends AsyncDisposable {
  readonly id: number;
  /**
   * Mounts the writable view (parent plus changes); layers are applied and steps run through it,
   * so a layer sees the filesystem below it exactly as a container would. Dispose before commit.
   */
  mount(): Promise<Mounted>;
  /**
   * A writable view for adding entries under `top` ("/src"), a direct child of the root. When the
   * parent has nothing there, overlay gives its own directory unmounted: what a mount would leave
   * in it is the same (every entry new, no copy-up, no whiteout), written at the disk's speed
   * instead of through overlayfs (half the time for many small files). Otherwise as mount(). Use
   * it instead of mount(), not after one.
   */
  mountForNew(top: string): Promise<Mounted>;
  /** Makes the snapshot immutable and returns its id. Disposing an uncommitted snapshot removes it. */
  commit(): Promise<number>;
}

export interface Snapshotter {
  readonly name: "overlay" | "native";
  prepare(parent: number | null, kind: string): Promise<ActiveSnapshot>;
  /** A read-only view of a committed snapshot. */
  mountReadonly(id: number): Promise<Mounted>;
  /**
   * A committed snapshot holding the inputs' layers stacked, later inputs over earlier ones; each
   * input keeps its own layers (on overlay nothing is copied).
   */
  merge(inputs: readonly number[], signal: AbortSignal): Promise<number>;
  /** The snapshots, bottom first, whose diffs are the image layers of `id`. */
  layers(id: number): number[];
  /**
   * The changes of committed snapshot `id` relative to its parent as a layer tar. Read the stream
   * to its end; the snapshot must not be removed before.
   */
  diff(id: number, opts: DiffOptions): LayerDiff;
  remove(id: number): Promise<void>;
  /** Bytes the snapshot's own data takes on disk (overlay: its changes; native: its whole tree). */
  diskUsage(id: number): Promise<number>;
  /** Removes what crashed kitbuild processes left: their active snapshots and their mounts. */
  cleanupOrphans(): Promise<void>;
}
