// The header encoder kitbuild used before src/archive/tar-header.ts (JS strings, a Map of PAX
// records, a Buffer per field), kept unchanged as the oracle that the faster encoder must match
// byte for byte: layers already built and pushed must keep their digests.
import type { TarEntryHeader } from "../../src/archive/tar-header.ts";

const BLOCK = 512;
const TYPEFLAG: Record<TarEntryHeader["type"], string> = {
  file: "0", link: "1", symlink: "2", "character-device": "3", "block-device": "4", directory: "5", fifo: "6",
};
const MAX_ID = 0o7777777;
const MAX_SIZE = 0o77777777777;
const MAX_TIME = 0o77777777777;

/** The old writer took the time in nanoseconds only. */
type OldHeader = TarEntryHeader & { mtimeNs: bigint };

/** The header blocks (PAX header and records when needed, then ustar) of `entry`, as the old writer wrote them. */
export function referenceHeaders(entry: TarEntryHeader): Buffer {
  const h: OldHeader = { ...entry, mtimeNs: entry.mtimeNs ?? BigInt(entry.mtimeSec ?? 0) * 1_000_000_000n + BigInt(entry.mtimeNsec ?? 0) };
  const records = paxRecords(h);
  const parts: Buffer[] = [];
  if (records.size > 0) {
    const pax = encodePax(records);
    parts.push(ustarHeader({ name: `PaxHeaders/${asciiName(h.name)}`, type: "file", mode: 0o644, uid: 0, gid: 0, mtimeNs: 0n, size: pax.length }, "x"));
    parts.push(pad(pax));
  }
  parts.push(ustarHeader(h, TYPEFLAG[h.type], records));
  return Buffer.concat(parts);
}

function paxRecords(h: OldHeader): Map<string, Buffer> {
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

function ustarHeader(h: OldHeader, typeflag: string, records = new Map<string, Buffer>()): Buffer {
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
