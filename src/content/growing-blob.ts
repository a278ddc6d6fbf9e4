// A blob read while it is being written into the content store: a layer is unpacked as it
// downloads instead of after (the store's write tells this listener where its temp file is and how
// far it has got). The bytes read are not verified yet: whoever reads them must wait for the
// download to succeed (its digest checked) before keeping anything made from them.
//
// The download runs at the network's pace and the reader at its own: the temp file (the page
// cache) holds the difference, so neither waits for the other and memory stays flat. When the
// download fails or starts over (another temp file), or never writes at all (the blob was already
// stored), the reader stops with `fellBack` set: read the stored blob instead, once it is there.
import { closeSync, openSync, readSync } from "node:fs";
import { canceledError } from "../util/abort.ts";
import type { IngestListener } from "./store.ts";

/** Bytes per read: as the decompressor's input chunks elsewhere (archive/decompress.ts). */
const READ_CHUNK = 1 << 20;

/** Thrown by the reader when it cannot go on; `GrowingBlob.fellBack` says so too. */
export class NotGrowing extends Error {
  constructor(why: string) {
    super(`the blob cannot be read while it downloads: ${why}`);
  }
}

type State = "waiting" | "growing" | "done" | "stopped";

export class GrowingBlob implements IngestListener {
  private state: State = "waiting";
  private fd: number | undefined;
  private size = 0;
  private claimed = false;
  /** The reader has started: it closes the file (a claimed reader never started does not). */
  private reading = false;
  private wake: (() => void) | undefined;
  /** Set when the reader stopped because of the download (not of its consumer): use the stored blob. */
  fellBack = false;

  started(tmpPath: string): void {
    // A second start: the first write failed, and its `ended` already stopped this reader.
    if (this.state !== "waiting") return this.stop();
    try {
      this.fd = openSync(tmpPath, "r");
      this.state = "growing";
    } catch {
      this.state = "stopped";
    }
    this.notify();
  }

  wrote(size: number): void {
    if (this.state !== "growing") return;
    this.size = size;
    this.notify();
  }

  ended(error?: unknown): void {
    if (this.state !== "growing") return;
    if (error === undefined) this.state = "done";
    else this.stop();
    if (!this.reading) this.closeFd();
    this.notify();
  }

  /** The download is over (its promise settled): a reader still waiting for it to start stops. */
  settled(): void {
    if (this.state === "waiting" || this.state === "growing") this.stop();
  }

  /**
   * The blob's bytes as they arrive, for one reader; undefined when the download is over already
   * (the stored blob is there to read) or another reader has it.
   */
  claim(signal: AbortSignal): AsyncGenerator<Uint8Array> | undefined {
    if (this.claimed || this.state === "done" || this.state === "stopped") return undefined;
    this.claimed = true;
    return this.read(signal);
  }

  private async *read(signal: AbortSignal): AsyncGenerator<Uint8Array> {
    let offset = 0;
    this.reading = true;
    try {
      for (;;) {
        if (signal.aborted) throw canceledError(signal);
        if (this.state === "stopped") {
          this.fellBack = true;
          throw new NotGrowing("the download stopped or started over");
        }
        if (this.fd !== undefined && offset < this.size) {
          const chunk = readAt(this.fd, offset, Math.min(READ_CHUNK, this.size - offset));
          offset += chunk.length;
          yield chunk;
          continue;
        }
        if (this.state === "done") return;
        await this.next(signal);
      }
    } finally {
      this.closeFd();
    }
  }

  /** Resolves at the next event of the download (or abort). */
  private next(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const onAbort = () => resolve();
      signal.addEventListener("abort", onAbort, { once: true });
      this.wake = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private stop(): void {
    this.state = "stopped";
    if (!this.reading) this.closeFd();
    this.notify();
  }

  private closeFd(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/** `length` bytes at `offset`, all written already (a short read would be a bug, so it loops). */
function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  for (let got = 0; got < length; ) {
    const n = readSync(fd, buf, got, length - got, offset + got);
    if (n === 0) throw new NotGrowing("the temp file is shorter than what was written to it");
    got += n;
  }
  return buf;
}
