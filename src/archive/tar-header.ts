// Tar header blocks written straight into a caller's buffer: a PAX extended header (when ustar cannot
// hold a value) and the ustar header of one entry. Numbers are written digit by digit and names
// copied as bytes, without building the intermediate strings and buffers a header would otherwise
// cost: a layer of 20,000 small files spent most of its time there. The bytes are exactly those of
// the string-based encoder kitbuild used before (test/archive/tar-header.test.ts compares them).

/** One archive entry as the writer takes it. */
export type TarEntryHeader = {
  name: string;
  type: "file" | "link" | "symlink" | "character-device" | "block-device" | "directory" | "fifo";
  mode: number;
  uid: number;
  gid: number;
  /** The modification time in nanoseconds since the epoch, or instead (cheaper) the next two. */
  mtimeNs?: bigint;
  /** Whole seconds (floor) and nanoseconds in [0, 1e9), as statx gives them. */
  mtimeSec?: number;
  mtimeNsec?: number;
  size?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: ReadonlyMap<string, Buffer>;
};

export const BLOCK = 512;
const TYPEFLAG: Record<TarEntryHeader["type"], number> = {
  file: 0x30, link: 0x31, symlink: 0x32, "character-device": 0x33, "block-device": 0x34, directory: 0x35, fifo: 0x36,
};
const PAX_TYPEFLAG = 0x78; // "x"
const MAX_ID = 0o7777777;
const MAX_SIZE = 0o77777777777;
const MAX_TIME = 0o77777777777;
const NS = 1_000_000_000n;
const MAX_TIME_SEC = BigInt(MAX_TIME);
const MAX_TIME_NS = MAX_TIME_SEC * NS;
const MAGIC = Buffer.from("ustar\u000000", "latin1");
const ZERO_BLOCK = new Uint8Array(BLOCK);

type PaxRecord = { key: string; value: Buffer | string; length: number };

/** One entry's header blocks, measured first (`size`) so the caller can make room, then written. */
export type EntryHeaders = { h: TarEntryHeader; records: PaxRecord[] | undefined; paxLength: number; size: number; mtime: number };

/** An entry's mtime as ustar holds it, and as a PAX record when ustar cannot. */
type Mtime = { ustar: number; pax: string | undefined };

/** Measures the header blocks `h` needs: a PAX header and its records when ustar cannot hold a value. */
export function entryHeaders(h: TarEntryHeader): EntryHeaders {
  const mtime = h.mtimeNs === undefined ? mtimeOfParts(h.mtimeSec ?? 0, h.mtimeNsec ?? 0) : mtimeOfNs(h.mtimeNs);
  const records = paxRecords(h, mtime.pax);
  let paxLength = 0;
  if (records) for (const r of records) paxLength += r.length;
  const size = records ? BLOCK + padded(paxLength) + BLOCK : BLOCK;
  return { h, records, paxLength, size, mtime: mtime.ustar };
}

/** Writes the blocks measured by `entryHeaders` at `off`; `b` must have `e.size` bytes there. */
export function writeEntryHeaders(b: Buffer, off: number, e: EntryHeaders): void {
  const { h, records } = e;
  let at = off;
  if (records) {
    const paxName = `PaxHeaders/${asciiName(h.name)}`;
    const split = splitUstarName(paxName) as { prefix: string; name: string };
    writeUstar(b, at, split.name, split.prefix, 0o644, 0, 0, e.paxLength, 0, PAX_TYPEFLAG, "", 0, 0);
    at += BLOCK;
    for (const r of records) at = writeRecord(b, at, r);
    const end = off + BLOCK + padded(e.paxLength);
    b.set(ZERO_BLOCK.subarray(0, end - at), at);
    at = end;
  }
  const hasPath = records?.some((r) => r.key === "path") ?? false;
  const hasLinkpath = records?.some((r) => r.key === "linkpath") ?? false;
  const split = hasPath ? { prefix: "", name: asciiName(h.name) } : (splitUstarName(h.name) as { prefix: string; name: string });
  const link = hasLinkpath ? asciiName(h.linkname ?? "") : (h.linkname ?? "");
  writeUstar(
    b, at, split.name, split.prefix, h.mode & 0o7777, Math.min(h.uid, MAX_ID), Math.min(h.gid, MAX_ID), Math.min(h.size ?? 0, MAX_SIZE),
    e.mtime, TYPEFLAG[h.type], link, h.devmajor ?? 0, h.devminor ?? 0,
  );
}

/** `length` rounded up to whole blocks. */
export function padded(length: number): number {
  return Math.ceil(length / BLOCK) * BLOCK;
}

/**
 * From nanoseconds: the seconds truncated toward zero, clamped into ustar's field; the PAX record
 * carries seconds and the fraction's digits (the sign is the seconds', so -0.5 s reads "0.5": kept,
 * as layers already made with it must keep their digests).
 */
function mtimeOfNs(ns: bigint): Mtime {
  const sec = ns / NS;
  const frac = ns % NS;
  const ustar = ns < 0n ? 0 : ns >= MAX_TIME_NS ? MAX_TIME : Number(sec);
  const pax = frac !== 0n || sec < 0n || sec > MAX_TIME_SEC ? paxTime(String(sec), Number(frac < 0n ? -frac : frac)) : undefined;
  return { ustar, pax };
}

/** The same from whole seconds (floor) and nanoseconds, without BigInts. */
function mtimeOfParts(floorSec: number, nsec: number): Mtime {
  // As nanoseconds would be divided: seconds toward zero, the fraction with their sign.
  const negative = floorSec < 0 && nsec > 0;
  const sec = negative ? floorSec + 1 : floorSec;
  const frac = negative ? 1_000_000_000 - nsec : nsec;
  const ustar = floorSec < 0 ? 0 : sec > MAX_TIME ? MAX_TIME : sec;
  const pax = frac !== 0 || sec < 0 || sec > MAX_TIME ? paxTime(String(sec), frac) : undefined;
  return { ustar, pax };
}

function paxRecords(h: TarEntryHeader, mtime: string | undefined): PaxRecord[] | undefined {
  let out: PaxRecord[] | undefined;
  const add = (key: string, value: Buffer | string) => (out ??= []).push(record(key, value));
  if (!splitUstarName(h.name)) add("path", Buffer.from(h.name));
  if (h.linkname !== undefined && (!isAscii(h.linkname) || h.linkname.length > 100)) add("linkpath", Buffer.from(h.linkname));
  if (h.uid > MAX_ID) add("uid", String(h.uid));
  if (h.gid > MAX_ID) add("gid", String(h.gid));
  if ((h.size ?? 0) > MAX_SIZE) add("size", String(h.size));
  if (mtime !== undefined) add("mtime", mtime);
  if (h.xattrs && h.xattrs.size > 0) {
    for (const name of [...h.xattrs.keys()].sort()) add(`SCHILY.xattr.${name}`, h.xattrs.get(name) as Buffer);
  }
  return out;
}

/** Seconds and a fraction (its absolute value in ns) without trailing zeros ("1600000000.1234"). */
function paxTime(sec: string, frac: number): string {
  if (frac === 0) return sec;
  // 1e9 + the fraction: its last nine digits are the fraction, zero-padded.
  const digits = String(1_000_000_000 + frac);
  let end = digits.length;
  while (digits.charCodeAt(end - 1) === 0x30) end--;
  return `${sec}.${digits.slice(1, end)}`;
}

/** A "%d key=value\n" record, whose length counts its own digits; keys are written as UTF-8. */
function record(key: string, value: Buffer | string): PaxRecord {
  // String values are decimal numbers (ASCII), so their length is their size in bytes.
  const rest = Buffer.byteLength(key) + value.length + 3; // " ", "=", "\n"
  let length = rest + decimalDigits(rest);
  if (decimalDigits(length) !== decimalDigits(rest)) length = rest + decimalDigits(length);
  return { key, value, length };
}

function decimalDigits(n: number): number {
  return String(n).length;
}

function writeRecord(b: Buffer, at: number, r: PaxRecord): number {
  let i = putLatin1(b, at, String(r.length), 20);
  b[i++] = 0x20;
  i = isAscii(r.key) ? putLatin1(b, i, r.key, r.key.length) : i + b.write(r.key, i, "utf8");
  b[i++] = 0x3d;
  i = typeof r.value === "string" ? putLatin1(b, i, r.value, r.value.length) : i + r.value.copy(b, i);
  b[i] = 0x0a;
  return i + 1;
}

/**
 * Writes at most `max` characters of `s` as Buffer.write's latin1 does (each character's low byte)
 * and returns the offset after them: for the short ASCII fields of a header a loop is several times
 * faster than a call into the runtime.
 */
function putLatin1(b: Buffer, off: number, s: string, max: number): number {
  const n = Math.min(s.length, max);
  for (let i = 0; i < n; i++) b[off + i] = s.charCodeAt(i) & 0xff;
  return off + n;
}

/** The sum of the bytes from `from` to `to`. */
function sum(b: Buffer, from: number, to: number): number {
  let total = 0;
  for (let i = from; i < to; i++) total += b[i] as number;
  return total;
}

function writeUstar(
  b: Buffer, off: number, name: string, prefix: string, mode: number, uid: number, gid: number, size: number, mtime: number,
  typeflag: number, link: string, devmajor: number, devminor: number,
): void {
  b.set(ZERO_BLOCK, off);
  const nameEnd = putLatin1(b, off, name, 100);
  octal(b, off + 100, 8, mode);
  octal(b, off + 108, 8, uid);
  octal(b, off + 116, 8, gid);
  octal(b, off + 124, 12, size);
  octal(b, off + 136, 12, mtime);
  b[off + 156] = typeflag;
  const linkEnd = putLatin1(b, off + 157, link, 100);
  b.set(MAGIC, off + 257);
  octal(b, off + 329, 8, devmajor);
  octal(b, off + 337, 8, devminor);
  const prefixEnd = putLatin1(b, off + 345, prefix, 155);
  // The checksum counts its own field as spaces; every byte not written above is zero.
  const total = sum(b, off, nameEnd) + sum(b, off + 100, off + 148) + 8 * 0x20 + sum(b, off + 156, linkEnd) +
    sum(b, off + 257, off + 265) + sum(b, off + 329, prefixEnd);
  octal(b, off + 148, 7, total);
  b[off + 155] = 0x20;
}

/** Zero-padded octal digits and a NUL, filling `len` bytes at `off`. */
function octal(b: Buffer, off: number, len: number, value: number): void {
  if (!(Number.isSafeInteger(value) && value >= 0 && value < 8 ** (len - 1))) {
    // What does not fit (never for the clamped fields) is written as the string encoder did: cut.
    b.write(`${value.toString(8).padStart(len - 1, "0")}\0`, off, len, "latin1");
    return;
  }
  b[off + len - 1] = 0;
  let v = value;
  for (let i = off + len - 2; i >= off; i--) {
    b[i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
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
  let end = name.length;
  while (end > 0 && name.charCodeAt(end - 1) === 0x2f) end--;
  let base = name.slice(name.lastIndexOf("/", end - 1) + 1, end);
  if (!isAscii(base)) base = base.replace(/[^\x20-\x7e]/g, "_");
  if (base.length > 90) base = base.slice(0, 90);
  return dir ? `${base}/` : base;
}
