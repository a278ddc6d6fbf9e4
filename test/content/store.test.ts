// The content store publishes a blob only when its size and digest check out.
import { describe, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { ContentStore } from "../../src/content/store.ts";
import { sha256 } from "../../src/llb/digest.ts";
import { tempDir } from "../harness.ts";

const signal = new AbortController().signal;
async function* chunks(...parts: string[]) {
  for (const p of parts) yield new TextEncoder().encode(p);
}

describe("ContentStore", () => {
  test("stores a blob under its digest", async () => {
    const store = new ContentStore(tempDir());
    const digest = await store.write(chunks("hello ", "world"), { size: 11 }, signal);
    expect(digest).toBe(sha256("hello world"));
    expect(new TextDecoder().decode(await store.readBytes(digest))).toBe("hello world");
  });

  test("a digest or size mismatch stores nothing and leaves no temp file", async () => {
    const root = tempDir();
    const store = new ContentStore(root);
    const wrong = sha256("something else");
    await expect(store.write(chunks("hello"), { digest: wrong }, signal)).rejects.toThrow("content digest mismatch");
    await expect(store.write(chunks("hello"), { size: 4 }, signal)).rejects.toThrow("content size mismatch");
    expect(await store.has(wrong)).toBe(false);
    expect(await store.has(sha256("hello"))).toBe(false);
    expect(readdirSync(`${root}/ingest`)).toEqual([]);
  });

  test("bytes already stored are not written again; other bytes under a stored digest are still refused", async () => {
    const root = tempDir();
    const store = new ContentStore(root);
    const bytes = new TextEncoder().encode("a manifest");
    const digest = await store.writeBytes(bytes, { digest: sha256("a manifest") });
    const stored = statSync(store.path(digest));
    expect(await store.writeBytes(bytes, { digest, size: bytes.length })).toBe(digest);
    // The same file, not replaced by a new one.
    expect(statSync(store.path(digest)).ino).toBe(stored.ino);
    await expect(store.writeBytes(new TextEncoder().encode("another one"), { digest })).rejects.toThrow("content digest mismatch");
    await expect(store.writeBytes(bytes, { digest, size: bytes.length + 1 })).rejects.toThrow("content size mismatch");
    expect(new TextDecoder().decode(await store.readBytes(digest))).toBe("a manifest");
    expect(readdirSync(`${root}/ingest`)).toEqual([]);
  });

  test("two writers of the same blob both succeed", async () => {
    const store = new ContentStore(tempDir());
    const digest = sha256("same");
    const [a, b] = await Promise.all([store.write(chunks("sa", "me"), { digest }, signal), store.write(chunks("same"), { digest }, signal)]);
    expect(a).toBe(digest);
    expect(b).toBe(digest);
  });
});
