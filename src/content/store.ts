// A content-addressed blob store. Blobs are written to a temp file while hashed, checked against
// the expected size and digest, fsynced, and only then published with link(), which fails harmlessly
// when another writer published the same blob first. Readers never see partial data.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { link, open, readFile, readdir, rm, stat } from "node:fs/promises";
import { hexOf } from "../llb/digest.ts";
import type { Digest } from "../oci/types.ts";
import { canceledError } from "../util/abort.ts";
import { KitError, errnoCode } from "../util/errors.ts";

export type Expected = { digest?: Digest; size?: number };

export type WriteProgress = (written: number) => void;

export class ContentStore {
  private readonly blobs: string;
  private readonly ingest: string;

  constructor(readonly root: string) {
    this.blobs = `${root}/blobs/sha256`;
    this.ingest = `${root}/ingest`;
    mkdirSync(this.blobs, { recursive: true });
    mkdirSync(this.ingest, { recursive: true });
  }

  path(digest: Digest): string {
    return `${this.blobs}/${hexOf(digest)}`;
  }

  hasSync(digest: Digest): boolean {
    return existsSync(this.path(digest));
  }

  async has(digest: Digest): Promise<boolean> {
    try {
      await stat(this.path(digest));
      return true;
    } catch (e) {
      if (errnoCode(e) === "ENOENT") return false;
      throw e;
    }
  }

  async readBytes(digest: Digest): Promise<Uint8Array> {
    try {
      return await readFile(this.path(digest));
    } catch (e) {
      if (errnoCode(e) === "ENOENT") throw new KitError("E_CONTENT_MISSING", `blob "${digest}" is not in the content store`);
      throw e;
    }
  }

  /** Stores bytes; returns their digest. */
  async writeBytes(data: Uint8Array, expected: Expected = {}, signal?: AbortSignal): Promise<Digest> {
    return this.write(oneChunk(data), expected, signal ?? new AbortController().signal);
  }

  /**
   * Streams chunks into the store. With an expected digest or size, a mismatch stores nothing and
   * throws E_CONTENT_DIGEST_MISMATCH / E_CONTENT_SIZE_MISMATCH.
   */
  async write(
    chunks: AsyncIterable<Uint8Array>,
    expected: Expected,
    signal: AbortSignal,
    onProgress?: WriteProgress,
  ): Promise<Digest> {
    const tmp = `${this.ingest}/${Date.now()}-${randomBytes(6).toString("hex")}`;
    const fh = await open(tmp, "wx", 0o644);
    let published = false;
    try {
      const hasher = new Bun.CryptoHasher("sha256");
      let size = 0;
      for await (const chunk of chunks) {
        if (signal.aborted) throw canceledError(signal);
        hasher.update(chunk);
        await fh.write(chunk);
        size += chunk.length;
        if (expected.size !== undefined && size > expected.size) throw sizeMismatch(expected, size);
        onProgress?.(size);
      }
      const digest: Digest = `sha256:${hasher.digest("hex")}`;
      if (expected.size !== undefined && size !== expected.size) throw sizeMismatch(expected, size);
      if (expected.digest && digest !== expected.digest) {
        throw new KitError("E_CONTENT_DIGEST_MISMATCH", `content digest mismatch: expected "${expected.digest}", got "${digest}"`, {
          hint: "the data was corrupted in transit or by the source; nothing was stored",
        });
      }
      await fh.sync();
      await fh.close();
      await this.publish(tmp, digest);
      published = true;
      return digest;
    } finally {
      if (!published) await fh.close().catch(() => {});
      await rm(tmp, { force: true });
    }
  }

  private async publish(tmp: string, digest: Digest): Promise<void> {
    try {
      await link(tmp, this.path(digest));
    } catch (e) {
      if (errnoCode(e) !== "EEXIST") throw e;
    }
  }

  async delete(digest: Digest): Promise<void> {
    await rm(this.path(digest), { force: true });
  }

  /** Every blob with its size and modification time (when it was stored). */
  async list(): Promise<Array<{ digest: Digest; size: number; mtime: number }>> {
    const out: Array<{ digest: Digest; size: number; mtime: number }> = [];
    for (const name of await readdir(this.blobs)) {
      try {
        const st = await stat(`${this.blobs}/${name}`);
        out.push({ digest: `sha256:${name}`, size: st.size, mtime: st.mtimeMs });
      } catch (e) {
        if (errnoCode(e) !== "ENOENT") throw e;
      }
    }
    return out;
  }

  /** Removes temp files left by writers that died; call when no other writer can be active on them. */
  async cleanIngest(olderThanMs: number): Promise<void> {
    const now = Date.now();
    for (const name of await readdir(this.ingest)) {
      const started = Number(name.split("-")[0]);
      if (Number.isFinite(started) && now - started > olderThanMs) await rm(`${this.ingest}/${name}`, { force: true });
    }
  }
}

function sizeMismatch(expected: Expected, size: number): KitError {
  return new KitError("E_CONTENT_SIZE_MISMATCH", `content size mismatch: expected ${expected.size} bytes, got ${size}`, {
    hint: "the data was truncated or padded in transit; nothing was stored",
  });
}

async function* oneChunk(data: Uint8Array): AsyncIterable<Uint8Array> {
  yield data;
}
