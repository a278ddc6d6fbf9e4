// A streaming tar reader: ustar, GNU long names and PAX records (global and per entry), octal and
// base-256 numbers. kitbuild reads tars with this rather than tar-stream's extractor because that
// one decodes PAX values as UTF-8 text, which corrupts binary xattrs such as security.capability;
// here PAX values stay bytes. Entries must be consumed in order: each body is read before the next.
import { KitError } from "../util/errors.ts";

export type TarEntryType = "file" | "link" | "symlink" | "character-device" | "block-device" | "directory" | "fifo" | "other";

export type TarHeader = {
  name: string;
  type: TarEntryType;
  /** The raw typeflag, for messages about entries kitbuild does not handle. */
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeNs: bigint;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** SCHILY.xattr.* records, their values as the exact bytes. */
  xattrs: Map<string, Buffer>;
};

export type TarEntry = { header: TarHeader; body: AsyncIterable<Buffer> };

const BLOCK = 512;
const TYPES: Record<string, TarEntryType> = {
  "0": "file", "\0": "file", "7": "file", "1": "link", "2": "symlink", "3": "character-device",
  "4": "block-device", "5": "directory", "6": "fifo",
};

/** Reads the entries of the tar stream `source`. */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const input = new ByteReader(source);
  let globalPax = new Map<string, Buffer>();
  let pax = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await input.read(BLOCK);
    if (block === undefined || isZero(block)) return;
    const raw = parseHeader(block);
    if (raw.typeflag === "x" || raw.typeflag === "g") {
      const records = parsePax(await input.readPadded(raw.size));
      if (raw.typeflag === "g") globalPax = new Map([...globalPax, ...records]);
      else pax = records;
      continue;
    }
    if (raw.typeflag === "L" || raw.typeflag === "K") {
      const text = cString(await input.readPadded(raw.size));
      if (raw.typeflag === "L") longName = text;
      else longLink = text;
      continue;
    }
    if (longName !== undefined) raw.name = longName;
    if (longLink !== undefined) raw.linkname = longLink;
    // Most entries have no PAX records: no merged map to build for them.
    const header = globalPax.size === 0 && pax.size === 0 ? raw : applyPax(raw, new Map([...globalPax, ...pax]));
    if (pax.size > 0) pax = new Map();
    longName = undefined;
    longLink = undefined;
    const dataSize = header.type === "file" || header.type === "other" ? header.size : 0;
    yield { header, body: input.body(dataSize) };
    await input.finishBody(dataSize);
  }
}

/** Whether `block` (the first 512 bytes of a stream) is a tar header with a valid checksum. */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < BLOCK || isZero(block.subarray(0, BLOCK))) return false;
  try {
    parseHeader(Buffer.from(block.subarray(0, BLOCK)));
    return true;
  } catch {
    return false;
  }
}

function parseHeader(b: Buffer): TarHeader {
  const stored = parseNumber(b.subarray(148, 156));
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const v = i >= 148 && i < 156 ? 32 : (b[i] as number);
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  if (stored !== unsigned && stored !== signed) throw invalid("a tar header has a wrong checksum");
  const typeflag = String.fromCharCode(b[156] as number);
  const ustar = b.toString("latin1", 257, 262) === "ustar";
  const gnu = b.toString("latin1", 257, 265) === "ustar  \0";
  let name = cString(b.subarray(0, 100));
  const prefix = ustar && !gnu ? cString(b.subarray(345, 500)) : "";
  if (prefix) name = `${prefix}/${name}`;
  return {
    name,
    type: TYPES[typeflag] ?? "other",
    typeflag,
    mode: parseNumber(b.subarray(100, 108)),
    uid: parseNumber(b.subarray(108, 116)),
    gid: parseNumber(b.subarray(116, 124)),
    size: parseNumber(b.subarray(124, 136)),
    mtimeNs: BigInt(parseNumber(b.subarray(136, 148))) * 1_000_000_000n,
    linkname: cString(b.subarray(157, 257)),
    devmajor: ustar ? parseNumber(b.subarray(329, 337)) : 0,
    devminor: ustar ? parseNumber(b.subarray(337, 345)) : 0,
    xattrs: new Map(),
  };
}

/** An octal field (NUL/space padded) or a base-256 one (high bit of the first byte set). */
function parseNumber(field: Buffer): number {
  if (((field[0] as number) & 0x80) !== 0) {
    let v = (field[0] as number) & 0x7f;
    for (let i = 1; i < field.length; i++) v = v * 256 + (field[i] as number);
    return v;
  }
  // Byte by byte rather than through a string and regexes: six of these per entry add up.
  let start = 0;
  let end = field.length;
  while (start < end && isPad(field[start] as number)) start++;
  while (end > start && isPad(field[end - 1] as number)) end--;
  let v = 0;
  for (let i = start; i < end; i++) {
    const digit = (field[i] as number) - 0x30;
    if (digit < 0 || digit > 7) throw invalid(`a tar header has a malformed number "${field.toString("latin1", start, end)}"`);
    v = v * 8 + digit;
  }
  return v;
}

const isPad = (byte: number) => byte === 0 || byte === 0x20;

function parsePax(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const len = Number(data.toString("latin1", pos, space));
    if (space < 0 || !Number.isInteger(len) || len <= 0 || pos + len > data.length) throw invalid("a PAX header is malformed");
    const record = data.subarray(space + 1, pos + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq < 0) throw invalid("a PAX record has no \"=\"");
    out.set(record.toString("utf8", 0, eq), Buffer.from(record.subarray(eq + 1)));
    pos += len;
  }
  return out;
}

function applyPax(h: TarHeader, records: Map<string, Buffer>): TarHeader {
  for (const [key, value] of records) {
    const text = () => value.toString("utf8");
    if (key === "path") h.name = text();
    else if (key === "linkpath") h.linkname = text();
    else if (key === "size") h.size = paxInteger(key, text());
    else if (key === "uid") h.uid = paxInteger(key, text());
    else if (key === "gid") h.gid = paxInteger(key, text());
    else if (key === "mtime") h.mtimeNs = paxTime(text());
    else if (key.startsWith("SCHILY.xattr.")) h.xattrs.set(key.slice("SCHILY.xattr.".length), value);
  }
  return h;
}

function paxInteger(key: string, text: string): number {
  if (!/^\d+$/.test(text)) throw invalid(`PAX record "${key}" is not a number: "${text}"`);
  return Number(text);
}

function paxTime(text: string): bigint {
  const m = /^(-?\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw invalid(`PAX record "mtime" is malformed: "${text}"`);
  const sec = BigInt(m[1] as string);
  const frac = BigInt(((m[2] ?? "") + "000000000").slice(0, 9));
  return sec * 1_000_000_000n + (sec < 0n ? -frac : frac);
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.toString("utf8", 0, end < 0 ? b.length : end);
}

function isZero(b: Uint8Array): boolean {
  for (const v of b) if (v !== 0) return false;
  return true;
}

function invalid(message: string): KitError {
  return new KitError("E_ARCHIVE_INVALID", message, { hint: "the archive is corrupt or not a tar archive" });
}

/** Pulls exact byte counts out of a chunked stream. */
class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private buf: Buffer = Buffer.alloc(0);
  private consumed = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Exactly n bytes, or undefined at a clean end of stream; a short read throws. */
  async read(n: number): Promise<Buffer | undefined> {
    while (this.buf.length < n) {
      const next = await this.it.next();
      if (next.done) {
        if (this.buf.length === 0) return undefined;
        throw invalid("the archive ends in the middle of an entry");
      }
      this.buf = this.buf.length === 0 ? asBuffer(next.value) : Buffer.concat([this.buf, next.value]);
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** n bytes of data followed by padding to the next block. */
  async readPadded(n: number): Promise<Buffer> {
    if (n > 1 << 20) throw invalid(`a tar metadata entry of ${n} bytes is too large`);
    const data = n === 0 ? Buffer.alloc(0) : await this.read(n);
    if (data === undefined) throw invalid("the archive ends in the middle of an entry");
    await this.skip(padding(n));
    return Buffer.from(data);
  }

  async *body(n: number): AsyncIterable<Buffer> {
    this.consumed = 0;
    while (this.consumed < n) {
      if (this.buf.length === 0) {
        const next = await this.it.next();
        if (next.done) throw invalid("the archive ends in the middle of a file");
        this.buf = asBuffer(next.value);
      }
      const take = Math.min(this.buf.length, n - this.consumed);
      const chunk = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      this.consumed += take;
      yield chunk;
    }
  }

  /** Skips what the consumer left of a body, and its padding. */
  async finishBody(n: number): Promise<void> {
    await this.skip(n - this.consumed + padding(n));
    this.consumed = 0;
  }

  private async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      const chunk = await this.read(Math.min(left, Math.max(this.buf.length, 1)));
      if (chunk === undefined) throw invalid("the archive ends in the middle of an entry");
      left -= chunk.length;
    }
  }
}

/**
 * A Buffer view of a chunk, not a copy: the chunks of a stream are not reused by their producer,
 * and copying every body byte once more cost a tenth of a layer's extraction time.
 */
function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function padding(n: number): number {
  return (BLOCK - (n % BLOCK)) % BLOCK;
}
