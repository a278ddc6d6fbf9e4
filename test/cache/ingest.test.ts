// Partial downloads in the content store's ingest area are named after their writer (pid and start
// time): those of a dead writer are removed whatever their age, those of a live one are kept and
// listed with their size (for du); files of the older naming go by age alone. A failed write
// leaves nothing behind.
import { describe, expect, test } from "bun:test";
import { readdirSync, utimesSync, writeFileSync } from "node:fs";
import { ContentStore } from "../../src/content/store.ts";
import { ownProcessTag } from "../../src/util/process-start.ts";
import { tempDir } from "../harness.ts";

describe("the ingest area", () => {
  test("a dead writer's file goes at once, a live writer's stays, an old-style file goes by age", async () => {
    const store = new ContentStore(tempDir());
    const ingest = `${store.root}/ingest`;
    const dead = Bun.spawnSync(["true"]).pid;
    writeFileSync(`${ingest}/${dead}-12345-aaaa`, new Uint8Array(70_000));
    writeFileSync(`${ingest}/${ownProcessTag()}-bbbb`, new Uint8Array(10_000));
    writeFileSync(`${ingest}/${Date.now()}-cccc`, "new old-style");
    // One name: two Date.now() calls may straddle a millisecond.
    const oldStyle = `${ingest}/${Date.now() - 2 * 86_400_000}-dddd`;
    writeFileSync(oldStyle, "old old-style");
    utimesSync(oldStyle, new Date(0), new Date(0));
    const listed = await store.ingestFiles();
    expect(listed.find((f) => f.name.endsWith("-aaaa"))).toMatchObject({ writerAlive: false });
    expect(listed.find((f) => f.name.endsWith("-bbbb"))).toMatchObject({ writerAlive: true });
    expect(listed.find((f) => f.name.endsWith("-aaaa"))?.size).toBeGreaterThanOrEqual(70_000);
    const removed = await store.cleanIngest(24 * 3600 * 1000);
    expect(removed.map((r) => r.name.split("-").pop()).sort()).toEqual(["aaaa", "dddd"]);
    expect(readdirSync(ingest).map((n) => n.split("-").pop()).sort()).toEqual(["bbbb", "cccc"]);
  });

  test("a write that fails (size mismatch) leaves no temp file", async () => {
    const store = new ContentStore(tempDir());
    await expect(store.writeBytes(new Uint8Array(10), { size: 5 })).rejects.toMatchObject({ code: "E_CONTENT_SIZE_MISMATCH" });
    expect(readdirSync(`${store.root}/ingest`)).toEqual([]);
  });
});
