// A small tar writer: ustar headers, PAX records where ustar cannot hold a value, and the stream
// as a Node Readable with backpressure, so a layer can be piped into a compressor. kitbuild writes
// tars with this rather than tar-stream's pack because that one encodes PAX values as UTF-8 text
// (corrupting binary xattrs such as security.capability) and replaces a mode of 0 by 0644/0755.
import { PassThrough, type Readable } from "node:stream";
import { KitError } from "../util/errors.ts";

export type TarEntryHeader = {
  name: string;
  type: "file" | "link" | "symlink" | "character-device" | "block-device" | "directory" | "fifo";
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  size?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: ReadonlyMap<string, Buffer>;
};

const BLOCK = 512;
const TYPEFLAG: Record<TarEntryHeader["type"], string> = {
  file: "0", link: "1", symlink: "2", "character-device": "3", "block-device": "4", directory: "5", fifo: "6",
};
const MAX_ID = 0o7777777;
const MAX_SIZE = 0o77777777777;
const MAX_TIME = 0o77777777777;
/** Writes smaller than GATHER_BELOW are gathered into GATHER-byte chunks. */
const GATHER = 256 * 1024;
const GATHER_BELOW = 64 * 1024;

export class TarWriter {
  /** The archive's bytes; read it (or pipe it) while entries are written. */
  readonly stream: Readable;
  private readonly out = new PassThrough({ highWaterMark: 1 << 20 });

  constructor() {
    this.stream = this.out;
  }

  /** Writes one entry; a file's `body` must yield exactly `size` bytes. */
  async entry(h: TarEntryHeader, body?: AsyncIterable<Uint8Array>): Promise<void> {
    const records = paxRecords(h);
    if (records.size > 0) {
      const pax = encodePax(records);
      await this.write(ustarHeader({ name: `PaxHeaders/${asciiName(h.name)}`, type: "file", mode: 0o644, uid: 0, gid: 0, mtimeNs: 0n, size: pax.length }, "x"));
      await this.write(pad(pax));
    }
    await this.write(ustarHeader(h, TYPEFLAG[h.type], records));
    const size = h.type === "file" ? (h.size ?? 0) : 0;
    if (size === 0) return;
    let written = 0;
    for await (const chunk of body ?? []) {
      written += chunk.length;
      if (written > size) throw changedWhileArchived(`"${h.name}" grew while it was archived`);
      await this.write(chunk);
    }
    if (written !== size) throw changedWhileArchived(`"${h.name}" changed size while it was archived (${written} of ${size} bytes)`);
    const rest = (BLOCK - (size % BLOCK)) % BLOCK;
    if (rest > 0) await this.write(Buffer.alloc(rest));
  }

  /** Ends the archive with its two zero blocks. */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(2 * BLOCK));
    await this.flush();
    this.out.end();
  }

  /** Fails the stream (its reader sees the error). */
  abort(err: Error): void {
    this.out.destroy(err);
  }

  /**
   * Headers, padding and small files are gathered into one buffer before they go to the stream:
   * each chunk costs the stream (and the hashing and compression behind it) a round of calls and
   * events, which dominated layers of many small files.
   */
  private pending = Buffer.allocUnsafe(GATHER);
  private used = 0;

  private async write(chunk: Uint8Array): Promise<void> {
    if (this.out.destroyed) throw streamClosed();
    if (chunk.length < GATHER_BELOW) {
      if (this.used + chunk.length > this.pending.length) await this.flush();
      this.pending.set(chunk, this.used);
      this.used += chunk.length;
      return;
    }
    await this.flush();
    await this.push(chunk);
  }

  private async flush(): Promise<void> {
    if (this.used === 0) return;
    const gathered = this.pending.subarray(0, this.used);
    // A new buffer: the stream keeps the gathered one until its reader has taken it.
    this.pending = Buffer.allocUnsafe(GATHER);
    this.used = 0;
    await this.push(gathered);
  }

  private async push(chunk: Uint8Array): Promise<void> {
    if (this.out.destroyed) throw streamClosed();
    if (this.out.write(chunk)) return;
    // Wait for the reader, unless it goes away (an error or abort downstream destroys the stream).
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        this.out.off("drain", onDrain);
        this.out.off("close", onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(streamClosed());
      this.out.on("drain", onDrain);
      this.out.on("close", onClose);
    });
  }
}

function changedWhileArchived(message: string): KitError {
  return new KitError("E_ARCHIVE_CHANGED", message, { hint: "something changed the files while kitbuild read them; run the build again" });
}

/** The reader went away (an error or an abort downstream); the cause is reported there. */
function streamClosed(): KitError {
  return new KitError("E_ARCHIVE_CLOSED", "the tar stream was closed");
}

function paxRecords(h: TarEntryHeader): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!splitUstarName(h.name)) out.set("path", Buffer.from(h.name));
  if (h.linkname !== undefined && (!isAscii(h.linkname) || h.linkname.length > 100)) out.set("linkpath", Buffer.from(h.linkname));
  if (h.uid > MAX_ID) out.set("uid", Buffer.from(String(h.uid)));
  if (h.gid > MAX_ID) out.set("gid", Buffer.from(String(h.gid)));
  if ((h.size ?? 0) > MAX_SIZE) out.set("size", Buffer.from(String(h.size)));
  const sec = h.mtimeNs / 1_000_000_000n;
  const frac = h.mtimeNs % 1_000_000_000n;
  if (frac !== 0n || sec < 0n || sec > BigInt(MAX_TIME)) {
    const fraction = frac === 0n ? "" : `.${(frac < 0n ? -frac : frac).toString().padStart(9, "0").replace(/0+$/, "")}`;
    out.set("mtime", Buffer.from(`${sec}${fraction}`));
  }
  const names = [...(h.xattrs?.keys() ?? [])].sort();
  for (const name of names) out.set(`SCHILY.xattr.${name}`, h.xattrs?.get(name) as Buffer);
  return out;
}

/** "%d key=value\n" records whose length counts its own digits; values are bytes. */
function encodePax(records: Map<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const rest = Buffer.byteLength(key) + value.length + 3; // " ", "=", "\n"
    let len = rest + String(rest).length;
    if (String(len).length !== String(rest).length) len = rest + String(len).length;
    parts.push(Buffer.from(`${len} ${key}=`), value, Buffer.from("\n"));
  }
  return Buffer.concat(parts);
}

function ustarHeader(h: TarEntryHeader, typeflag: string, records = new Map<string, Buffer>()): Buffer {
  const b = Buffer.alloc(BLOCK);
  const split = records.has("path") ? { prefix: "", name: asciiName(h.name) } : (splitUstarName(h.name) as { prefix: string; name: string });
  b.write(split.name, 0, 100, "latin1");
  octal(b, 100, 8, h.mode & 0o7777);
  octal(b, 108, 8, Math.min(h.uid, MAX_ID));
  octal(b, 116, 8, Math.min(h.gid, MAX_ID));
  octal(b, 124, 12, Math.min(h.size ?? 0, MAX_SIZE));
  const sec = h.mtimeNs / 1_000_000_000n;
  octal(b, 136, 12, Number(sec < 0n ? 0n : sec > BigInt(MAX_TIME) ? BigInt(MAX_TIME) : sec));
  b.write(typeflag, 156, 1, "latin1");
  const link = records.has("linkpath") ? asciiName(h.linkname ?? "") : (h.linkname ?? "");
  b.write(link, 157, 100, "latin1");
  b.write("ustar\u000000", 257, 8, "latin1");
  octal(b, 329, 8, h.devmajor ?? 0);
  octal(b, 337, 8, h.devminor ?? 0);
  b.write(split.prefix, 345, 155, "latin1");
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i] as number;
  octal(b, 148, 7, sum);
  b[155] = 0x20;
  return b;
}

/** Zero-padded octal digits and a NUL, filling `len` bytes at `off`. */
function octal(b: Buffer, off: number, len: number, value: number): void {
  b.write(`${value.toString(8).padStart(len - 1, "0")}\0`, off, len, "latin1");
}

function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/** ustar's name and prefix fields for `name`, or undefined when it needs a PAX path record. */
function splitUstarName(name: string): { prefix: string; name: string } | undefined {
  if (!isAscii(name)) return undefined;
  if (name.length <= 100) return { prefix: "", name };
  const cut = name.indexOf("/", name.length - 101);
  if (cut <= 0 || cut > 155) return undefined;
  return { prefix: name.slice(0, cut), name: name.slice(cut + 1) };
}

/** An ASCII stand-in, at most 100 bytes, for a name held in a PAX record. */
function asciiName(name: string): string {
  const dir = name.endsWith("/");
  const base = (name.replace(/\/+$/, "").split("/").pop() ?? "").replace(/[^\x20-\x7e]/g, "_").slice(0, 90);
  return dir ? `${base}/` : base;
}

function pad(data: Buffer): Buffer {
  const rest = (BLOCK - (data.length % BLOCK)) % BLOCK;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(rest)]);
}
