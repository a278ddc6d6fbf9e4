// The native snapshotter: every snapshot is a whole tree, prepared as a copy of its parent (cloned
// with reflinks where the filesystem has them). Works wherever overlayfs does not.
import type { CacheIndex } from "../cache/index.ts";
import { copyTree } from "../util/copy-tree.ts";
import { plainDir } from "./mount.ts";
import { SnapshotRecords } from "./records.ts";
import type { ActiveSnapshot, Mounted, Snapshotter } from "./snapshotter.ts";

export class NativeSnapshotter implements Snapshotter {
  readonly name = "native";
  private readonly records: SnapshotRecords;

  constructor(
    root: string,
    index: CacheIndex,
    private readonly preserveOwner: boolean,
  ) {
    this.records = new SnapshotRecords(root, index);
  }

  async prepare(parent: number | null, kind: string): Promise<ActiveSnapshot> {
    const id = this.records.create(parent, kind);
    const records = this.records;
    try {
      if (parent !== null) {
        await copyTree(records.fs(parent), records.fs(id), { preserveOwner: this.preserveOwner, xattrs: true });
      }
    } catch (e) {
      await records.remove(id);
      throw e;
    }
    return records.active(id, async () => plainDir(records.fs(id)));
  }

  async mountReadonly(id: number): Promise<Mounted> {
    this.records.requireCommitted(id);
    return plainDir(this.records.fs(id));
  }

  remove(id: number): Promise<void> {
    return this.records.remove(id);
  }

  diskUsage(id: number): Promise<number> {
    return this.records.diskUsage(id);
  }

  cleanupOrphans(): Promise<void> {
    return this.records.cleanupOrphans();
  }
}
