// Per-step log limits as BuildKit applies them to each output stream of a RUN: at most 2 MiB in
// total and 200 KiB per second since the step started (both configurable). Past the limit the
// output is dropped with BuildKit's "[output clipped, log limit … reached]" line; the dropped tail
// is kept (up to 256 KiB) and shown when the step ends, so the last lines are never lost.

export type LogLimits = {
  /** Bytes per stream; -1 for no limit. */
  maxSize: number;
  /** Bytes per second per stream, counted from the step's start; -1 for no limit. */
  maxSpeed: number;
};

export const DEFAULT_LOG_LIMITS: LogLimits = { maxSize: 2 * 1024 * 1024, maxSpeed: 200 * 1024 };

/** The tail of the dropped output kept for the end of the step (BuildKit's buffer size). */
const TAIL_BYTES = 256 * 1024;

/** Sizes as BuildKit prints them in the clip message: binary units, shortest form ("2MiB"). */
export function formatLimit(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? bytes : Number(v.toPrecision(6))}${units[i]}`;
}

/** One output stream of one step: write() passes on what fits, finish() passes on the kept tail. */
export class StreamLimiter {
  private size = 0;
  private clipping = false;
  private clipForSpeed = false;
  private tail: Buffer[] = [];
  private tailSize = 0;
  private dropped = false;
  private trimmed = false;

  constructor(
    private readonly limits: LogLimits,
    private readonly emit: (data: Uint8Array) => void,
    private readonly started = Date.now(),
    private readonly now: () => number = Date.now,
  ) {}

  write(chunk: Uint8Array): void {
    const allowed = this.allowed(chunk.length);
    if (allowed < chunk.length) this.keepTail(Buffer.from(chunk.subarray(allowed)));
    let out = Buffer.from(chunk.subarray(0, allowed));
    if (this.clipping && allowed === chunk.length) this.clipping = false;
    if (!this.clipping && allowed < chunk.length) {
      const limit = this.clipForSpeed ? `${formatLimit(this.limits.maxSpeed)}/s` : formatLimit(this.limits.maxSize);
      out = Buffer.concat([out, Buffer.from(`\n[output clipped, log limit ${limit} reached]\n`)]);
      this.clipping = true;
    }
    if (out.length > 0) this.emit(out);
  }

  /** Shows the last dropped output, starting at a line boundary, once the step has ended. */
  finish(): void {
    if (!this.dropped) return;
    let tail = Buffer.concat(this.tail);
    this.tail = [];
    const nl = tail.indexOf(10);
    // When the kept tail lost its start, begin at the next whole line.
    if (this.trimmed && nl >= 0) tail = tail.subarray(nl + 1);
    if (tail.length > 0) this.emit(tail);
  }

  /** How many of the next `n` bytes fit (BuildKit's checkLimit). */
  private allowed(n: number): number {
    const old = this.size;
    this.size += n;
    let max = -1;
    this.clipForSpeed = false;
    if (this.limits.maxSpeed !== -1) {
      max = Math.max(1, Math.ceil((this.now() - this.started) / 1000)) * this.limits.maxSpeed;
      this.clipForSpeed = true;
    }
    // As in BuildKit, a size limit of -1 lifts the speed limit too.
    if (max === -1 || max > this.limits.maxSize) {
      max = this.limits.maxSize;
      this.clipForSpeed = false;
    }
    if (max === -1) return n;
    if (max < old) return 0;
    return this.size > max ? max - old : n;
  }

  private keepTail(data: Buffer): void {
    this.dropped = true;
    this.tail.push(data);
    this.tailSize += data.length;
    while (this.tailSize > TAIL_BYTES) {
      const first = this.tail[0] as Buffer;
      const cut = Math.min(first.length, this.tailSize - TAIL_BYTES);
      this.trimmed = true;
      if (cut === first.length) this.tail.shift();
      else this.tail[0] = first.subarray(cut);
      this.tailSize -= cut;
    }
  }
}
