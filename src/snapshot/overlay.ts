// The overlay snapshotter: each snapshot directory holds only its own changes (an overlay upper
// dir); a mount stacks the parent chain as lowerdirs, so preparing a snapshot copies nothing.
import { mkdirSync } from "node:fs";
import type { CacheIndex } from "../cache/index.ts";
import { KitError, wrapError } from "../util/errors.ts";
import { MS_RDONLY } from "../util/libc.ts";
import { mountAt, plainDir } from "./mount.ts";
import { SnapshotRecords } from "./records.ts";
import type { ActiveSnapshot, Mounted, Snapshotter } from "./snapshotter.ts";

// The kernel takes mount options up to one page; each lowerdir costs its path plus a colon.
const MAX_MOUNT_DATA = 4000;

export class OverlaySnapshotter implements Snapshotter {
  readonly name = "overlay";
  private readonly records: SnapshotRecords;

  constructor(root: string, index: CacheIndex) {
    this.records = new SnapshotRecords(root, index);
  }

  async prepare(parent: number | null, kind: string): Promise<ActiveSnapshot> {
    const id = this.records.create(parent, kind);
    mkdirSync(`${this.records.dir(id)}/work`);
    return this.records.active(id, async () => this.mountActive(id, parent));
  }

  private mountActive(id: number, parent: number | null): Mounted {
    const upper = this.records.fs(id);
    if (parent === null) return plainDir(upper);
    const lowers = this.lowerdirs(parent);
    return this.mountOverlay(`lowerdir=${lowers},upperdir=${upper},workdir=${this.records.dir(id)}/work`, 0);
  }

  async mountReadonly(id: number): Promise<Mounted> {
    this.records.requireCommitted(id);
    const chain = this.records.index.chain(id);
    if (chain.length === 1) return plainDir(this.records.fs(id));
    return this.mountOverlay(`lowerdir=${this.lowerdirs(id)}`, MS_RDONLY);
  }

  private lowerdirs(top: number): string {
    const dirs = this.records.index.chain(top).map((s) => this.records.fs(s));
    const joined = dirs.join(":");
    if (joined.length > MAX_MOUNT_DATA) {
      throw new KitError("E_SNAPSHOT_TOO_DEEP", `a snapshot chain of ${dirs.length} layers is too deep to mount`, {
        hint: "set KITBUILD_SNAPSHOTTER=native for this build",
      });
    }
    return joined;
  }

  private mountOverlay(options: string, flags: number): Mounted {
    try {
      return mountAt(this.records.root, "overlay", "overlay", flags, `${options},index=off`);
    } catch (e) {
      throw wrapError(e, "E_SNAPSHOT_MOUNT", "failed to mount overlay", "set KITBUILD_SNAPSHOTTER=native to build without overlayfs");
    }
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
