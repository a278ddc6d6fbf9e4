// rpm's binary header as rpmdb.sqlite stores it (the blob without the on-disk header magic):
// a big-endian count of index entries and the data size, the entries (tag, type, offset, count,
// 16 bytes each), then the data they point into. Only the string and int32 tags a package record
// needs are read.

export const RPMTAG = { name: 1000, version: 1001, release: 1002, epoch: 1003, vendor: 1011, license: 1014, packager: 1015, arch: 1022, sourcerpm: 1044 } as const;

const TYPE_INT32 = 4;
const TYPE_STRING = 6;
const TYPE_STRING_ARRAY = 8;
const TYPE_I18NSTRING = 9;

/** Index entries are capped as rpm caps them, so a corrupt count cannot make the parser allocate wildly. */
const MAX_ENTRIES = 0xffff;

export type RpmHeader = { strings: Map<number, string>; ints: Map<number, number> };

/** Parses a header blob; undefined when it is malformed. */
export function parseRpmHeader(blob: Uint8Array): RpmHeader | undefined {
  if (blob.length < 8) return undefined;
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const count = view.getUint32(0);
  const dataSize = view.getUint32(4);
  const dataStart = 8 + count * 16;
  if (count > MAX_ENTRIES || dataStart + dataSize > blob.length) return undefined;
  const data = blob.subarray(dataStart, dataStart + dataSize);
  const wanted = new Set<number>(Object.values(RPMTAG));
  const header: RpmHeader = { strings: new Map(), ints: new Map() };
  for (let i = 0; i < count; i++) {
    const at = 8 + i * 16;
    const tag = view.getUint32(at);
    if (!wanted.has(tag)) continue;
    const type = view.getUint32(at + 4);
    const offset = view.getUint32(at + 8);
    if (offset >= data.length) return undefined;
    if (type === TYPE_STRING || type === TYPE_I18NSTRING || type === TYPE_STRING_ARRAY) {
      const text = cString(data, offset);
      if (text === undefined) return undefined;
      header.strings.set(tag, text);
    } else if (type === TYPE_INT32 && offset + 4 <= data.length) {
      header.ints.set(tag, new DataView(data.buffer, data.byteOffset + offset, 4).getInt32(0));
    }
  }
  return header;
}

function cString(data: Uint8Array, offset: number): string | undefined {
  const end = data.indexOf(0, offset);
  return end < 0 ? undefined : new TextDecoder().decode(data.subarray(offset, end));
}
