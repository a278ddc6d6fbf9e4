// The native snapshotter: every snapshot is a whole tree, prepared as a copy of its parent (cloned
// with reflinks where the filesystem has them). Works wherever overlayfs does not. A snapshot's
// layer is found by comparing its tree with its parent's; a merge is materialized by applying the
// later inputs' layers onto a copy of the first.
import type { CacheIndex } from "../cache/index.ts";
import { copyTree } from "../fs/copy-tree.ts";
import { nativeChanges } from "./changes-native.ts";
import { applyLayerStream } from "./layer-apply.ts";
import { type DiffOptions, type LayerDiff, writeLayerTar } from "./layer-diff.ts";
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
      if (parent !== null) await this.copy(parent, id);
    } catch (e) {
      await records.remove(id);
      throw e;
    }
    return records.active(id, async () => plainDir(records.fs(id)));
  }

  private copy(from: number, to: number, signal?: AbortSignal): Promise<void> {
    return copyTree(this.records.fs(from), this.records.fs(to), { preserveOwner: this.preserveOwner, xattrs: true, keepExistingRoot: false, signal });
  }

  async mountReadonly(id: number): Promise<Mounted> {
    this.records.requireCommitted(id);
    return plainDir(this.records.fs(id));
  }

  async merge(inputs: readonly number[], signal: AbortSignal): Promise<number> {
    const id = this.records.createMerge(inputs);
    await using active = this.records.active(id, async () => plainDir(this.records.fs(id)));
    const layers = this.records.layers(id);
    const first = inputs[0] === undefined ? [] : this.records.layers(inputs[0]);
    const reuseFirst = first.length > 0 && first.every((l, i) => layers[i] === l);
    if (reuseFirst) await this.copy(inputs[0] as number, id, signal);
    for (const layer of layers.slice(reuseFirst ? first.length : 0)) {
      const diff = this.diff(layer, { signal });
      await applyLayerStream(diff.stream, "uncompressed", this.records.fs(id), { preserveOwner: this.preserveOwner, name: `snapshot ${layer}`, signal });
    }
    return active.commit();
  }

  layers(id: number): number[] {
    return this.records.layers(id);
  }

  diff(id: number, opts: DiffOptions): LayerDiff {
    const parent = this.records.requireLayer(id);
    const parentTree = parent === null ? undefined : this.records.fs(parent);
    return writeLayerTar(nativeChanges(this.records.fs(id), parentTree), opts);
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
