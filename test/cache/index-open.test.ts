// Several processes creating one cache index at the same moment (the first builds on a fresh cache
// root): every one must open it. SQLite's switch to WAL does not wait on the busy timeout, and this
// failed about one time in ten with "database is locked" before the switch was retried.
import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { tempDir } from "../harness.ts";

const INDEX = new URL("../../src/cache/index.ts", import.meta.url).pathname;
const PROCESSES = 4;
const ROUNDS = 12;

/** Opens (creating) the index at `path` once the clock reaches `at`, so the processes collide. */
const OPENER = `
const { CacheIndex } = await import(process.argv[1]);
const at = Number(process.argv[3]);
while (Date.now() < at) {}
const index = new CacheIndex(process.argv[2]);
index.close();
`;

function openAt(path: string, at: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["-e", OPENER, INDEX, path, String(at)], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("cache index", () => {
  test(`${PROCESSES} processes creating one index at once all open it (${ROUNDS} rounds)`, async () => {
    const dir = tempDir();
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Far enough ahead that every process has started and waits for the same moment.
      const at = Date.now() + 600;
      const results = await Promise.all(Array.from({ length: PROCESSES }, () => openAt(`${dir}/index-${round}.db`, at)));
      for (const r of results) if (r.code !== 0) failures.push(r.stderr);
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
