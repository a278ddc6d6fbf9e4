// A content-addressed blob store. Blobs are written to a temp file while hashed, checked against
// the expected size and digest, fsynced, and only then published with link(), which fails harmlessly
// when another writer published the same blob first. Readers never see partial data. A temp file in
// ingest/ is named after its writer ("PID-START-…", START its start time), so the files of a writer
// that died (killed mid-download) are removed at the next start and by prune, whatever their age.
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { link, open, readFile, readdir, rm, stat } from "node:fs/promises";
import { hexOf } from "../llb/digest.ts";
import { randomHex } from "../util/random.ts";
import type { Digest } from "../oci/types.ts";
import { canceledError } from "../util/abort.ts";
import { KitError, errnoCode } from "../util/errors.ts";
import { isSameProcessAlive, ownProcessTag } from "../util/process-start.ts";
import { writeFailure } from "../util/write-errors.ts";

export type Expected = { digest?: Digest; size?: number };

export type WriteProgress = (written: number) => void;

/**
 * Told how a write's temp file grows, so that it can be read while it is written (a layer unpacked
 * while it downloads: growing-blob.ts). Called synchronously; a listener must not throw.
 */
export type IngestListener = {
  /** The (empty) temp file exists at `tmpPath`; it is removed when the write ends, either way. */
  started(tmpPath: string): void;
  /** The temp file holds `size` bytes, in the page cache. */
  wrote(size: number): void;
  /** The write ended: the blob was verified and published (no error), or nothing was stored. */
  ended(error?: unknown): void;
};

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
    // Already stored (a base's manifest, fetched again by every build that resolves its tag): no
    // temporary file and no fsync, for the same outcome the write would have had.
    if (expected.digest && (expected.size ?? data.length) === data.length && this.hasSync(expected.digest)) {
      if (`sha256:${Bun.CryptoHasher.hash("sha256", data, "hex")}` === expected.digest) return expected.digest;
    }
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
    ingest?: IngestListener,
  ): Promise<Digest> {
    const tmp = `${this.ingest}/${ownProcessTag()}-${randomHex(6)}`;
    let size = 0;
    // A full or read-only cache root says so, naming the blob's path; nothing partial is published.
    const failure = (e: unknown) => writeFailure(e, { path: expected.digest ? this.path(expected.digest) : tmp, area: "cache root", needed: expected.size, written: size });
    const fh = await open(tmp, "wx", 0o644).catch((e) => {
      throw failure(e);
    });
    let published = false;
    ingest?.started(tmp);
    try {
      const hasher = new Bun.CryptoHasher("sha256");
      for await (const chunk of chunks) {
        if (signal.aborted) throw canceledError(signal);
        hasher.update(chunk);
        await fh.write(chunk);
        size += chunk.length;
        ingest?.wrote(size);
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
      ingest?.ended();
      return digest;
    } catch (e) {
      ingest?.ended(e);
      // Free the space first, so the message tells what is free without the partial blob.
      await fh.close().catch(() => {});
      await rm(tmp, { force: true });
      throw failure(e);
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

  /**
   * Every blob with its size and modification time (when it was stored). Synchronous stats: an
   * awaited stat per blob made the GC's size check after every build take tens of ms.
   */
  async list(): Promise<Array<{ digest: Digest; size: number; mtime: number }>> {
    const out: Array<{ digest: Digest; size: number; mtime: number }> = [];
    for (const name of readdirSync(this.blobs)) {
      const st = statSync(`${this.blobs}/${name}`, { throwIfNoEntry: false });
      if (st) out.push({ digest: `sha256:${name}`, size: st.size, mtime: st.mtimeMs });
    }
    return out;
  }

  /**
   * Removes temp files whose writer died, and files of the older naming ("MS-…", no writer
   * recorded) written longer ago than `olderThanMs`. Returns what was removed, with sizes.
   */
  async cleanIngest(olderThanMs: number): Promise<Array<{ name: string; size: number }>> {
    const removed: Array<{ name: string; size: number }> = [];
    for (const f of await this.ingestFiles()) {
      if (f.writerAlive && !(f.legacy && Date.now() - f.mtime > olderThanMs)) continue;
      await rm(`${this.ingest}/${f.name}`, { force: true });
      removed.push(f);
    }
    return removed;
  }

  /** The temp files of writes in progress (or of dead writers not yet cleaned), for `du`. */
  async ingestFiles(): Promise<Array<{ name: string; size: number; mtime: number; writerAlive: boolean; legacy: boolean }>> {
    const out: Array<{ name: string; size: number; mtime: number; writerAlive: boolean; legacy: boolean }> = [];
    for (const name of await readdir(this.ingest)) {
      let st: Awaited<ReturnType<typeof stat>>;
      try {
        st = await stat(`${this.ingest}/${name}`);
      } catch (e) {
        if (errnoCode(e) === "ENOENT") continue;
        throw e;
      }
      const [first, second, third] = name.split("-");
      const legacy = third === undefined;
      // Older names start with the time the write began; they are judged by age alone.
      const writerAlive = legacy ? true : isSameProcessAlive(Number(first), second as string);
      out.push({ name, size: st.blocks * 512, mtime: st.mtimeMs, writerAlive, legacy });
    }
    return out;
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
