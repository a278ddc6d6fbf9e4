// Cache mounts (RUN --mount=type=cache): directories under <root>/cache-mounts kept across builds and
// processes, found by key (the cache id, plus the seed's identity when the cache starts from `from`).
// Who uses which directory is recorded in the cache index, and every decision is taken inside one
// SQLite IMMEDIATE transaction, so concurrent kitbuild processes see one consistent state (Bun has no
// flock). As in BuildKit: `shared` users share a directory, `private` takes a free one or makes a new
// one, `locked` takes a free one or waits for one. Holders of dead processes are dropped.
import type { Database } from "bun:sqlite";
import { randomHex } from "../util/random.ts";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import type { CacheSharing } from "../llb/ops.ts";
import { sleep } from "../util/abort.ts";
import { diskUsage } from "../util/disk-usage.ts";
import { type IsAlive, ownerCheck } from "./processes.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cache_mounts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL,
  ready INTEGER NOT NULL,
  created INTEGER NOT NULL,
  last_used INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS cache_mounts_key ON cache_mounts (key);
CREATE TABLE IF NOT EXISTS cache_mount_holders (
  token TEXT PRIMARY KEY,
  mount INTEGER NOT NULL REFERENCES cache_mounts(id),
  pid INTEGER NOT NULL,
  exclusive INTEGER NOT NULL
);
`;

/** How often a `locked` user looks again for a free directory (BuildKit waits 100 ms too). */
const LOCK_POLL_MS = 100;

export type CacheMountRequest = {
  id: string;
  sharing: CacheSharing;
  /** What the cache starts from (`from` and `source`): its identity, and how to fill a new directory. */
  seed?: { key: string; fill: (dir: string) => Promise<void> };
};

export type CacheMountLease = AsyncDisposable & { readonly path: string };

type Row = { id: number; ready: number };
type Decision = { kind: "use"; id: number; token: string; fresh: boolean } | { kind: "wait" };

/** Fills a new directory of a cache mount from elsewhere (a remote cache that carries it). */
export type RemoteMountSeed = (dir: string, signal: AbortSignal) => Promise<void>;

export class CacheMounts {
  /** By id: how a new directory of an unseeded cache mount starts (set when a remote cache carries one). */
  remoteSeeds = new Map<string, RemoteMountSeed>();
  private readonly isAlive: IsAlive;

  constructor(
    private readonly root: string,
    private readonly db: Database,
    isAlive: IsAlive,
  ) {
    this.isAlive = ownerCheck(db, isAlive);
    this.db.transaction(() => {
      this.db.exec(SCHEMA);
      // Bytes on disk, measured when a build lets go of the directory (for du and the GC); added later.
      const cols = this.db.query("PRAGMA table_info(cache_mounts)").all() as Array<{ name: string }>;
      if (!cols.some((c) => c.name === "size")) this.db.exec("ALTER TABLE cache_mounts ADD COLUMN size INTEGER");
    }).immediate();
  }

  dir(id: number): string {
    return `${this.root}/cache-mounts/${id}`;
  }

  /** A directory for the mount, held until the lease is disposed; `locked` may wait for it. */
  async acquire(req: CacheMountRequest, signal: AbortSignal, onWait?: () => void): Promise<CacheMountLease> {
    const key = req.seed ? `${req.id}:${req.seed.key}` : req.id;
    let waited = false;
    for (;;) {
      this.removeAbandoned();
      const d = this.db.transaction(() => this.decide(key, req)).immediate();
      if (d.kind === "use") return this.lease(d, req, signal);
      if (!waited) onWait?.();
      waited = true;
      await sleep(LOCK_POLL_MS, signal);
    }
  }

  private decide(key: string, req: CacheMountRequest): Decision {
    this.dropDeadHolders();
    const rows = this.db.query("SELECT id, ready FROM cache_mounts WHERE key = ? ORDER BY last_used DESC, id DESC").all(key) as Row[];
    let filling = false;
    for (const row of rows) {
      if (!row.ready) {
        filling = true;
        continue;
      }
      const holders = this.db.query("SELECT exclusive FROM cache_mount_holders WHERE mount = ?").all(row.id) as Array<{ exclusive: number }>;
      const free = req.sharing === "shared" ? holders.every((h) => !h.exclusive) : holders.length === 0;
      if (free) return { kind: "use", id: row.id, token: this.hold(row.id, req.sharing !== "shared"), fresh: false };
    }
    if (req.sharing === "locked" && rows.length > 0) return { kind: "wait" };
    // Shared users of a directory still being made wait for it rather than make their own (BuildKit
    // makes a shared cache once, under a lock): concurrent steps see one directory.
    if (req.sharing === "shared" && filling) return { kind: "wait" };
    const now = Date.now();
    const created = this.db.query("INSERT INTO cache_mounts (key, ready, created, last_used) VALUES (?, 0, ?, ?) RETURNING id").get(key, now, now) as { id: number };
    // Held exclusively while it is being filled, whatever the sharing.
    return { kind: "use", id: created.id, token: this.hold(created.id, true), fresh: true };
  }

  private hold(mount: number, exclusive: boolean): string {
    const token = randomHex(12);
    this.db.query("INSERT INTO cache_mount_holders (token, mount, pid, exclusive) VALUES (?, ?, ?, ?)").run(token, mount, process.pid, exclusive ? 1 : 0);
    return token;
  }

  private async lease(d: Extract<Decision, { kind: "use" }>, req: CacheMountRequest, signal: AbortSignal): Promise<CacheMountLease> {
    const path = this.dir(d.id);
    const release = () => {
      this.db.transaction(() => {
        this.db.query("DELETE FROM cache_mount_holders WHERE token = ?").run(d.token);
        this.db.query("UPDATE cache_mounts SET last_used = ? WHERE id = ?").run(Date.now(), d.id);
      }).immediate();
    };
    if (d.fresh) {
      try {
        rmSync(path, { recursive: true, force: true });
        mkdirSync(path, { recursive: true, mode: 0o755 });
        if (req.seed) await req.seed.fill(path);
        else await this.remoteSeeds.get(req.id)?.(path, signal);
        if (signal.aborted) throw signal.reason;
        this.db.transaction(() => {
          this.db.query("UPDATE cache_mounts SET ready = 1 WHERE id = ?").run(d.id);
          if (req.sharing === "shared") this.db.query("UPDATE cache_mount_holders SET exclusive = 0 WHERE token = ?").run(d.token);
        }).immediate();
      } catch (e) {
        release();
        this.removeAbandoned();
        throw e;
      }
    }
    return {
      path,
      [Symbol.asyncDispose]: async () => {
        release();
        // Best effort: a size not recorded is measured when du or the GC needs it.
        await this.measure(d.id).catch(() => {});
      },
    };
  }

  /**
   * Starts cache mounts `ids` empty for this build, as BuildKit prunes the cache mounts of steps that
   * ignore the cache (--no-cache, --no-cache-filter) when it loads the graph: every directory of
   * each id, with or without a seed (`from`, or mode/uid/gid, whose seed key names a snapshot), is
   * retired so no later lookup finds it, and removed unless a build still holds it (then prune or the
   * GC removes it once let go of). Called once per build, before its steps run, so steps of the
   * same build that share an id still share the new directory.
   */
  reset(ids: Iterable<string>): void {
    const gone = this.db.transaction(() => {
      this.dropDeadHolders();
      const wanted = [...ids];
      const rows = this.db.query("SELECT id, key FROM cache_mounts").all() as Array<{ id: number; key: string }>;
      const retired = rows.filter((r) => wanted.some((id) => keyOfId(r.key, id)));
      for (const r of retired) this.db.query("UPDATE cache_mounts SET key = ? WHERE id = ?").run(`(reset ${r.id}) ${r.key}`, r.id);
      return retired.map((r) => r.id);
    }).immediate();
    for (const id of gone) this.remove(id);
  }

  /** The most recently used directory of an unseeded cache mount `id`, if there is one. */
  latestDir(id: string): string | undefined {
    const row = this.db.query("SELECT id FROM cache_mounts WHERE key = ? AND ready = 1 ORDER BY last_used DESC, id DESC LIMIT 1").get(id) as { id: number } | null;
    return row ? this.dir(row.id) : undefined;
  }

  private dropDeadHolders(): void {
    const pids = this.db.query("SELECT DISTINCT pid FROM cache_mount_holders").all() as Array<{ pid: number }>;
    for (const { pid } of pids) {
      if (!this.isAlive(pid)) this.db.query("DELETE FROM cache_mount_holders WHERE pid = ?").run(pid);
    }
  }

  /**
   * Every ready directory with when it was last used, whether a live build holds it and its size
   * (as measured when last let go of; measured now when it never was), for du, prune and the GC.
   */
  async list(): Promise<Array<{ id: number; key: string; lastUsed: number; created: number; held: boolean; size: number }>> {
    this.dropDeadHolders();
    const rows = this.db
      .query("SELECT id, key, last_used, created, size, (SELECT count(*) FROM cache_mount_holders h WHERE h.mount = m.id) AS holders FROM cache_mounts m WHERE ready = 1")
      .all() as Array<{ id: number; key: string; last_used: number; created: number; size: number | null; holders: number }>;
    const out = [];
    for (const r of rows) {
      const size = r.size ?? (await this.measure(r.id));
      out.push({ id: r.id, key: r.key, lastUsed: r.last_used, created: r.created, held: r.holders > 0, size });
    }
    return out;
  }

  /** Records (and returns) the bytes directory `id` takes on disk. */
  private async measure(id: number): Promise<number> {
    const size = await diskUsage(this.dir(id));
    this.db.query("UPDATE cache_mounts SET size = ? WHERE id = ?").run(size, id);
    return size;
  }

  /**
   * Removes directory `id` unless a build holds it: the row goes first (in a transaction that
   * re-checks the holders), then the data, so a crash in between leaves only an unlisted directory
   * that removeStrays() finds. Returns whether it was removed.
   */
  remove(id: number): boolean {
    const gone = this.db.transaction(() => {
      this.dropDeadHolders();
      if (this.db.query("SELECT 1 FROM cache_mount_holders WHERE mount = ? LIMIT 1").get(id)) return false;
      return this.db.query("DELETE FROM cache_mounts WHERE id = ?").run(id).changes > 0;
    }).immediate();
    if (gone) rmSync(this.dir(id), { recursive: true, force: true });
    return gone;
  }

  /** Directories under cache-mounts/ with no row (a removal or creation that a crash cut short). */
  removeStrays(): void {
    let names: string[];
    try {
      names = readdirSync(`${this.root}/cache-mounts`);
    } catch {
      return;
    }
    const known = new Set((this.db.query("SELECT id FROM cache_mounts").all() as Array<{ id: number }>).map((r) => String(r.id)));
    for (const name of names) if (!known.has(name)) rmSync(`${this.root}/cache-mounts/${name}`, { recursive: true, force: true });
  }

  /** Directories whose filling never finished (a failure or a crash) and that nobody holds. */
  removeAbandoned(): void {
    const gone = this.db.transaction(() => {
      this.dropDeadHolders();
      const rows = this.db
        .query("SELECT id FROM cache_mounts WHERE ready = 0 AND id NOT IN (SELECT mount FROM cache_mount_holders)")
        .all() as Array<{ id: number }>;
      for (const r of rows) this.db.query("DELETE FROM cache_mounts WHERE id = ?").run(r.id);
      return rows;
    }).immediate();
    for (const r of gone) rmSync(this.dir(r.id), { recursive: true, force: true });
  }
}

/** Whether a directory's key belongs to cache id `id`: the id itself, or a seeded `ID:<snapshot>:<path>`. */
function keyOfId(key: string, id: string): boolean {
  return key === id || (key.startsWith(`${id}:`) && /^\d+:\//.test(key.slice(id.length + 1)));
}
