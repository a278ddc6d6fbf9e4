// The snapshotter contract. A snapshot is a filesystem tree stacked on a parent; a writable
// ("active") one is prepared, changed through a mount, then committed and never changed again.
// Implementations: overlay/ (kernel overlayfs) and native/ (full copies).
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
  /** Makes the snapshot immutable and returns its id. Disposing an uncommitted snapshot removes it. */
  commit(): Promise<number>;
}

export interface Snapshotter {
  readonly name: "overlay" | "native";
  prepare(parent: number | null, kind: string): Promise<ActiveSnapshot>;
  /** A read-only view of a committed snapshot. */
  mountReadonly(id: number): Promise<Mounted>;
  remove(id: number): Promise<void>;
  /** Bytes the snapshot's own data takes on disk (overlay: its changes; native: its whole tree). */
  diskUsage(id: number): Promise<number>;
  /** Removes what crashed kitbuild processes left: their active snapshots and their mounts. */
  cleanupOrphans(): Promise<void>;
}
