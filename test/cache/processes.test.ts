// Pids in the cache index are checked with their process's start time: records of a dead process
// are released when another kitbuild opens the index, even when a live process now has its pid;
// a live registered process keeps its records.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { CacheIndex } from "../../src/cache/index.ts";
import { Leases } from "../../src/cache/leases.ts";
import { othersOpen, ownerCheck } from "../../src/cache/processes.ts";
import { isProcessAlive } from "../../src/util/process.ts";
import { ownStartTime, processStartTime } from "../../src/util/process-start.ts";
import { tempDir } from "../harness.ts";

function seed(path: string, pid: number, start: string): void {
  const db = new Database(path);
  db.query("INSERT OR REPLACE INTO processes (pid, start) VALUES (?, ?)").run(pid, start);
  db.query("INSERT INTO leases (pid, snapshot) VALUES (?, 1)").run(pid);
  db.query("INSERT INTO claims (key, pid, started) VALUES (?, ?, 0)").run(`k-${pid}`, pid);
  db.close();
}

const count = (index: CacheIndex, table: string, pid: number) =>
  (index.db.query(`SELECT count(*) AS n FROM ${table} WHERE pid = ?`).get(pid) as { n: number }).n;

describe("processes in the cache index", () => {
  test("start times come from /proc; this process's is stable", () => {
    expect(processStartTime(process.pid)).toBe(ownStartTime());
    expect(ownStartTime()).toMatch(/^\d+$/);
    expect(processStartTime(2 ** 22 + 12345)).toBeUndefined();
  });

  test("a live process with a dead one's pid does not keep that one's leases and claims", () => {
    const path = `${tempDir()}/index.db`;
    new CacheIndex(path).close();
    const other = Bun.spawn(["sleep", "30"]);
    try {
      seed(path, other.pid, "1"); // the pid is alive, but it is not the process that registered
      const index = new CacheIndex(path);
      expect(count(index, "leases", other.pid)).toBe(0);
      expect(count(index, "claims", other.pid)).toBe(0);
      index.close();
    } finally {
      other.kill();
    }
  });

  test("a live registered process keeps its records and counts as another open process", () => {
    const path = `${tempDir()}/index.db`;
    new CacheIndex(path).close();
    const other = Bun.spawn(["sleep", "30"]);
    try {
      const start = processStartTime(other.pid) as string;
      seed(path, other.pid, start);
      const index = new CacheIndex(path);
      expect(count(index, "leases", other.pid)).toBe(1);
      expect(new Leases(index.db, isProcessAlive).held().has(1)).toBe(true);
      expect(othersOpen(index.db, isProcessAlive)).toBe(true);
      index.close();
    } finally {
      other.kill();
    }
  });

  test("records of a dead process go, and its unfinished snapshots lose their owner for the orphan sweep", () => {
    const path = `${tempDir()}/index.db`;
    const first = new CacheIndex(path);
    const dead = Bun.spawnSync(["true"]).pid;
    first.db.query("INSERT INTO snapshots (parent, state, kind, owner_pid, created, last_used) VALUES (NULL, 'active', 'exec', ?, 0, 0)").run(dead);
    first.close();
    seed(path, dead, "1");
    const index = new CacheIndex(path);
    expect(count(index, "leases", dead)).toBe(0);
    expect(index.orphanedActive(isProcessAlive).map((s) => s.kind)).toEqual(["exec"]);
    expect(othersOpen(index.db, isProcessAlive)).toBe(false);
    index.close();
  });
});
