// What both snapshotters share: snapshot directories under <root>/snapshots/<id>, their records in
// the cache index, and removal of what crashed processes left.
import { lstatSync, mkdirSync, readdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import type { CacheIndex } from "../cache/index.ts";
import { KitError } from "../util/errors.ts";
import { isProcessAlive } from "../util/process.ts";
import { releaseOrphanMounts } from "./mount.ts";
import type { ActiveSnapshot, Mounted } from "./snapshotter.ts";

export class SnapshotRecords {
  constructor(
    readonly root: string,
    readonly index: CacheIndex,
  ) {
    mkdirSync(`${root}/snapshots`, { recursive: true });
    mkdirSync(`${root}/mounts`, { recursive: true });
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

  requireCommitted(id: number): void {
    const rec = this.index.getSnapshot(id);
    if (!rec || rec.state !== "committed") {
      throw new KitError("E_SNAPSHOT_MISSING", `snapshot ${id} is missing or not committed`, {
        hint: "the cache may have been pruned during the build; run the build again",
      });
    }
  }

  async remove(id: number): Promise<void> {
    // Data first, record last: a crash in between leaves a record the orphan sweep can still find.
    await rm(this.dir(id), { recursive: true, force: true });
    this.index.deleteSnapshot(id);
  }

  /** Bytes on disk under the snapshot's directory; hardlinked files are counted once. */
  async diskUsage(id: number): Promise<number> {
    const seen = new Set<string>();
    let total = 0;
    const walk = async (path: string): Promise<void> => {
      for (const name of readdirSync(path)) {
        const p = `${path}/${name}`;
        const st = lstatSync(p, { bigint: true });
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
        total += Number(st.blocks) * 512;
        if (st.isDirectory()) await walk(p);
      }
      if (seen.size % 1024 === 0) await new Promise((r) => setImmediate(r));
    };
    await walk(this.dir(id));
    return total;
  }

  /** The handle of a prepared snapshot: committing keeps it, disposing an uncommitted one removes it. */
  active(id: number, mount: () => Promise<Mounted>): ActiveSnapshot {
    let committed = false;
    return {
      id,
      mount,
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
    for (const rec of this.index.orphanedActive(isProcessAlive)) await this.remove(rec.id);
  }
}
