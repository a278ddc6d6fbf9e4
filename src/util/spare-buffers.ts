// Buffers of one size handed back once their reader is done, to be filled again: a layer of 50 MB
// went through hundreds of new chunks that stayed in memory until a collection, which the layer walk
// had forced every 1,000 entries (about 15 ms each) to stay under 150 MB of RSS.
export class SpareBuffers {
  private readonly spare: ArrayBuffer[] = [];

  /** `size`: the only size kept; `max`: how many are kept at most. */
  constructor(private readonly size: number, private readonly max: number) {}

  /** An empty buffer of `size` bytes, a spare one if there is. */
  take(): Buffer<ArrayBuffer> {
    const spare = this.spare.pop();
    // A buffer of its own: a small allocUnsafe may share its memory with other buffers.
    return Buffer.from(spare ?? new ArrayBuffer(this.size));
  }

  /** Takes back the whole of `buffer` when it is that size; nothing may use it afterwards. */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === this.size && this.spare.length < this.max) this.spare.push(buffer);
  }
}
