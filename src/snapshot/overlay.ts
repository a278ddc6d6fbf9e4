// The overlay snapshotter: each snapshot directory holds only its own changes (an overlay upper
// dir); a mount stacks its layers as lowerdirs, so preparing a snapshot copies nothing, and a merge
// is only a record listing other snapshots' layers. redirect_dir and metacopy are off, so an upper
// dir always holds whole entries and whiteouts: it is the snapshot's layer as it is.
import { lstatSync, mkdirSync, rmdirSync, rmSync } from "node:fs";
import type { CacheIndex } from "../cache/index.ts";
import { KitError, wrapError } from "../util/errors.ts";
import { MS_RDONLY, mount } from "../fs/libc.ts";
import { overlayChanges } from "./changes-overlay.ts";
import { type DiffOptions, type LayerChange, type LayerDiff, writeLayerTar } from "./layer-diff.ts";
import { UsageTally } from "../util/disk-usage.ts";
import { mountAt, mountpointDir, plainDir, releaseOnDispose } from "./mount.ts";
import { SnapshotRecords } from "./records.ts";
import type { ActiveSnapshot, Mounted, Snapshotter } from "./snapshotter.ts";

// The kernel takes mount options up to one page; each lowerdir costs its path plus a colon.
const MAX_MOUNT_DATA = 4000;
export const FIXED_OPTIONS = "index=off,redirect_dir=off,metacopy=off";

export class OverlaySnapshotter implements Snapshotter {
  readonly name = "overlay";
  private readonly records: SnapshotRecords;

  /**
   * `options`: the mount options every overlay of this root gets (FIXED_OPTIONS as root; `userxattr`
   * in a user namespace). `volatile`: writable mounts skip syncing (see mountActive).
   */
  constructor(root: string, index: CacheIndex, private readonly options = FIXED_OPTIONS, private readonly volatile = false) {
    this.records = new SnapshotRecords(root, index);
  }

  async prepare(parent: number | null, kind: string): Promise<ActiveSnapshot> {
    const id = this.records.create(parent, kind);
    mkdirSync(`${this.records.dir(id)}/work`);
    return this.records.active(id, async () => this.mountActive(id, parent), async (top) => this.mountForNew(id, parent, top));
  }

  private async mountForNew(id: number, parent: number | null, top: string): Promise<Mounted> {
    if (!/^\/[^/]+$/.test(top) || top === "/." || top === "/..") return this.mountActive(id, parent);
    if (parent !== null && (await this.hasEntry(parent, top))) return this.mountActive(id, parent);
    return plainDir(this.records.fs(id));
  }

  /** Whether committed snapshot `id` has anything (not whited out) at `top`, a direct child of its root. */
  private async hasEntry(id: number, top: string): Promise<boolean> {
    await using view = await this.mountReadonly(id);
    return lstatSync(`${view.path}${top}`, { throwIfNoEntry: false }) !== undefined;
  }

  /**
   * Unmounting a writable overlay syncs its upper directory's whole filesystem: after a RUN that
   * read 20,000 files, 0.25-0.4 s of writing back whatever the host had dirty. `volatile` skips
   * that sync, so a RUN's output is as durable as a COPY's or an unpacked layer's (neither is
   * synced). Overlay then refuses to mount the same work directory again until its
   * `work/incompat` marker is removed, which a second mount of one active snapshot does first.
   */
  private mountActive(id: number, parent: number | null): Mounted {
    const upper = this.records.fs(id);
    const lowers = parent === null ? [] : this.records.layers(parent);
    if (lowers.length === 0) return plainDir(upper);
    const work = `${this.records.dir(id)}/work`;
    if (this.volatile) rmSync(`${work}/work/incompat`, { recursive: true, force: true });
    return this.mountOverlay(lowers, `upperdir=${upper},workdir=${work}${this.volatile ? ",volatile" : ""}`, 0);
  }

  async mountReadonly(id: number): Promise<Mounted> {
    this.records.requireCommitted(id);
    const layers = this.records.layers(id);
    if (layers.length <= 1) return plainDir(this.records.fs(layers[0] ?? id));
    return this.mountOverlay(layers, "", MS_RDONLY);
  }

  async merge(inputs: readonly number[]): Promise<number> {
    const id = this.records.createMerge(inputs);
    await using active = this.records.active(id, async () => plainDir(this.records.fs(id)));
    return active.commit();
  }

  layers(id: number): number[] {
    return this.records.layers(id);
  }

  diff(id: number, opts: DiffOptions): LayerDiff {
    this.records.requireLayer(id);
    return writeLayerTar(this.changesSized(id), opts);
  }

  /** The upper directory's changes; a walk that reaches the end has seen all of it, and sizes the snapshot. */
  private *changesSized(id: number): Iterable<LayerChange> {
    const usage = new UsageTally();
    yield* overlayChanges(this.records.fs(id), usage);
    this.records.recordWalkedUsage(id, usage.bytes);
  }

  /**
   * Mounts `layers` (bottom first). When their absolute paths exceed the page the kernel takes for
   * mount options, they are given relative to the snapshots directory ("12/fs"), mounting from
   * there; that fits hundreds of layers, up to overlayfs' own limit.
   */
  private mountOverlay(layers: readonly number[], rest: string, flags: number): Mounted {
    const top = [...layers].reverse();
    const absolute = `lowerdir=${top.map((l) => this.records.fs(l)).join(":")}`;
    const options = (lower: string) => [lower, rest, this.options].filter(Boolean).join(",");
    try {
      if (options(absolute).length <= MAX_MOUNT_DATA) return mountAt(this.records.root, "overlay", "overlay", flags, options(absolute));
      const relative = `lowerdir=${top.map((l) => `${l}/fs`).join(":")}`;
      if (options(relative).length > MAX_MOUNT_DATA) throw tooDeep(layers.length);
      return this.mountFromSnapshotsDir(options(relative), flags);
    } catch (e) {
      throw wrapError(e, "E_SNAPSHOT_MOUNT", `failed to mount overlay of ${layers.length} layers`, "set KITBUILD_SNAPSHOTTER=native to build without overlayfs");
    }
  }

  private mountFromSnapshotsDir(options: string, flags: number): Mounted {
    const path = mountpointDir(this.records.root);
    const cwd = process.cwd();
    // The relative lowerdirs are resolved against the working directory during the mount(2) call;
    // it is synchronous, so nothing else runs in between.
    process.chdir(`${this.records.root}/snapshots`);
    try {
      mount("overlay", path, "overlay", flags, options);
    } catch (e) {
      rmdirSync(path);
      throw e;
    } finally {
      process.chdir(cwd);
    }
    return releaseOnDispose(path);
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

function tooDeep(count: number): KitError {
  return new KitError("E_SNAPSHOT_TOO_DEEP", `a snapshot of ${count} layers is too deep to mount with overlayfs`, {
    hint: "set KITBUILD_SNAPSHOTTER=native for this build",
  });
}
