// What both snapshotters share: snapshot directories under <root>/snapshots/<id>, their records in
// the cache index, and removal of what crashed processes left.
import { mkdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import type { CacheIndex } from "../cache/index.ts";
import { deleteMergeInputs, ensureMergeTable, mergeInputs, mergesUsing, setMergeInputs } from "../cache/merges.ts";
import { diskUsage, diskUsageSync } from "../util/disk-usage.ts";
import { errnoCode, KitError } from "../util/errors.ts";
import { isProcessAlive } from "../util/process.ts";
import { releaseOrphanMounts } from "./mount.ts";
import type { ActiveSnapshot, Mounted } from "./snapshotter.ts";

export const MERGE_KIND = "merge";

function missing(id: number): KitError {
  return new KitError("E_SNAPSHOT_MISSING", `snapshot ${id} is missing or not committed`, {
    hint: "the cache may have been pruned during the build; run the build again",
  });
}

export class SnapshotRecords {
  constructor(
    readonly root: string,
    readonly index: CacheIndex,
  ) {
    mkdirSync(`${root}/snapshots`, { recursive: true });
    mkdirSync(`${root}/mounts`, { recursive: true });
    ensureMergeTable(index.db);
  }

  dir(id: number): string {
    return `${this.root}/snapshots/${id}`;
  }

  fs(id: number): string {
    return `${this.dir(id)}/fs`;
  }

  /** Records a new active snapshot and creates its directory. */
  create(parent: number | null, kind: string): number {
    if (parent !== null) this.requireCommitted(parent);
    const id = this.index.createSnapshot(parent, kind);
    mkdirSync(this.fs(id), { recursive: true, mode: 0o755 });
    return id;
  }

  /**
   * The snapshots whose own changes, bottom first, make up `id`: its parent chain, with merges
   * expanded into their inputs' layers. A layer met twice is kept where it comes last: applying it
   * again on top decides every path it touches, so the earlier application changes nothing.
   */
  layers(id: number): number[] {
    const all = this.expand(id);
    return all.filter((layer, i) => all.indexOf(layer, i + 1) < 0);
  }

  private expand(id: number): number[] {
    const rec = this.index.getSnapshot(id);
    if (!rec) throw missing(id);
    if (rec.kind === MERGE_KIND) return mergeInputs(this.index.db, id).flatMap((input) => this.expand(input));
    return [...(rec.parent === null ? [] : this.expand(rec.parent)), id];
  }

  /** Records a merge of committed snapshots (its data, if any, is the snapshotter's business). */
  createMerge(inputs: readonly number[]): number {
    for (const input of inputs) this.requireCommitted(input);
    const id = this.create(null, MERGE_KIND);
    setMergeInputs(this.index.db, id, inputs);
    return id;
  }

  /** A snapshot whose own changes form one layer: not a merge. */
  requireLayer(id: number): number | null {
    this.requireCommitted(id);
    const rec = this.index.getSnapshot(id);
    if (rec?.kind === MERGE_KIND) {
      throw new KitError("E_INTERNAL", `snapshot ${id} is a merge and has no changes of its own`, { hint: "diff the snapshots listed by layers() instead" });
    }
    return rec?.parent ?? null;
  }

  requireCommitted(id: number): void {
    const rec = this.index.getSnapshot(id);
    if (!rec || rec.state !== "committed") throw missing(id);
  }

  async remove(id: number, retries: { maxRetries?: number; retryDelay?: number } = {}): Promise<void> {
    const users = mergesUsing(this.index.db, id);
    if (users.length > 0) {
      throw new KitError("E_SNAPSHOT_IN_USE", `snapshot ${id} is a layer of merge snapshot ${users.join(", ")}`, { hint: "remove the merge first" });
    }
    // Data first, record last: a crash in between leaves a record the orphan sweep can still find.
    await rm(this.dir(id), { recursive: true, force: true, ...retries });
    deleteMergeInputs(this.index.db, id);
    this.index.deleteSnapshot(id);
  }

  /** Bytes on disk under the snapshot's directory; hardlinked files are counted once. */
  diskUsage(id: number): Promise<number> {
    return diskUsage(this.dir(id));
  }

  /**
   * Records a committed snapshot's size from a walk of its whole `fs` directory made for another
   * purpose (`fsBytes`: its contents' usage), when none is recorded: the GC after a build would
   * otherwise walk it again (85 ms for 20,000 files). The same number diskUsage gives.
   */
  recordWalkedUsage(id: number, fsBytes: number): void {
    try {
      if (this.index.getSnapshot(id)?.size !== null) return;
      this.index.setSnapshotSize(id, diskUsageSync(this.dir(id), { path: this.fs(id), bytes: fsBytes }));
    } catch {
      // Unrecorded, the size is measured when it is needed, as before.
    }
  }

  /** The handle of a prepared snapshot: committing keeps it, disposing an uncommitted one removes it. */
  active(id: number, mount: () => Promise<Mounted>, mountForNew: (top: string) => Promise<Mounted> = mount): ActiveSnapshot {
    let committed = false;
    return {
      id,
      mount,
      mountForNew,
      commit: async () => {
        this.index.commitSnapshot(id);
        committed = true;
        return id;
      },
      [Symbol.asyncDispose]: async () => {
        if (!committed) await this.remove(id);
      },
    };
  }

  async cleanupOrphans(): Promise<void> {
    releaseOrphanMounts(this.root);
    for (const rec of this.index.orphanedActive(isProcessAlive)) {
      try {
        await this.remove(rec.id, { maxRetries: 5, retryDelay: 50 });
      } catch (e) {
        // A dead build's container may still be writing into it until runc has killed it: the
        // record stays, and a later start removes it. This build does not need it gone.
        if (!errnoCode(e)?.match(/^E[A-Z]+$/)) throw e;
      }
    }
  }
}
