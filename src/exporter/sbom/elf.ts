// Just enough ELF to find a named section: the file header (32 or 64 bit, either byte order), the
// section header table and its string table. Used to find Go's .go.buildinfo without reading the
// whole binary.
import { readAt } from "./root-files.ts";

export type ElfSection = { offset: number; size: number };

/** Whether the first bytes of a file are the ELF magic. */
export function isElf(head: Uint8Array): boolean {
  return head.length >= 16 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

/**
 * The file range of section `name` in the ELF file open at `fd`; "absent" when the section table
 * has no such section, undefined when there is no usable section table (a stripped one).
 */
export function findElfSection(fd: number, fileSize: number, name: string): ElfSection | "absent" | undefined {
  const head = readAt(fd, 0, 64);
  if (!isElf(head)) return undefined;
  const is64 = head[4] === 2;
  const le = head[5] === 1;
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const word = (off: number) => (is64 ? Number(v.getBigUint64(off, le)) : v.getUint32(off, le));
  const shoff = word(is64 ? 0x28 : 0x20);
  const shentsize = v.getUint16(is64 ? 0x3a : 0x2e, le);
  const shnum = v.getUint16(is64 ? 0x3c : 0x30, le);
  const shstrndx = v.getUint16(is64 ? 0x3e : 0x32, le);
  if (shoff === 0 || shnum === 0 || shentsize < (is64 ? 64 : 40) || shoff + shnum * shentsize > fileSize || shstrndx >= shnum) return undefined;
  const table = readAt(fd, shoff, shnum * shentsize);
  const tv = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const section = (i: number): ElfSection & { nameOffset: number } => {
    const at = i * shentsize;
    return is64
      ? { nameOffset: tv.getUint32(at, le), offset: Number(tv.getBigUint64(at + 0x18, le)), size: Number(tv.getBigUint64(at + 0x20, le)) }
      : { nameOffset: tv.getUint32(at, le), offset: tv.getUint32(at + 0x10, le), size: tv.getUint32(at + 0x14, le) };
  };
  const strtab = section(shstrndx);
  if (strtab.offset + strtab.size > fileSize || strtab.size > 1024 * 1024) return undefined;
  const names = readAt(fd, strtab.offset, strtab.size);
  const wanted = new TextEncoder().encode(`${name}\0`);
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (s.nameOffset + wanted.length > names.length) continue;
    if (wanted.every((b, k) => names[s.nameOffset + k] === b)) return s.offset + s.size <= fileSize ? { offset: s.offset, size: s.size } : undefined;
  }
  return "absent";
}

/** Reads `length` bytes at virtual address `addr` of the loaded image, or undefined when no segment holds them. */
export type VirtualReader = (addr: number, length: number) => Uint8Array | undefined;

/** A reader of the file's PT_LOAD segments by virtual address (for pointers stored in the binary). */
export function elfVirtualReader(fd: number, fileSize: number): VirtualReader | undefined {
  const head = readAt(fd, 0, 64);
  if (!isElf(head)) return undefined;
  const is64 = head[4] === 2;
  const le = head[5] === 1;
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const phoff = is64 ? Number(v.getBigUint64(0x20, le)) : v.getUint32(0x1c, le);
  const phentsize = v.getUint16(is64 ? 0x36 : 0x2a, le);
  const phnum = v.getUint16(is64 ? 0x38 : 0x2c, le);
  if (phoff === 0 || phentsize < (is64 ? 56 : 32) || phoff + phnum * phentsize > fileSize) return undefined;
  const table = readAt(fd, phoff, phnum * phentsize);
  const tv = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const loads: Array<{ offset: number; vaddr: number; filesz: number }> = [];
  for (let i = 0; i < phnum; i++) {
    const at = i * phentsize;
    if (tv.getUint32(at, le) !== 1) continue; // PT_LOAD
    loads.push(
      is64
        ? { offset: Number(tv.getBigUint64(at + 8, le)), vaddr: Number(tv.getBigUint64(at + 16, le)), filesz: Number(tv.getBigUint64(at + 32, le)) }
        : { offset: tv.getUint32(at + 4, le), vaddr: tv.getUint32(at + 8, le), filesz: tv.getUint32(at + 16, le) },
    );
  }
  return (addr, length) => {
    const seg = loads.find((s) => addr >= s.vaddr && addr + length <= s.vaddr + s.filesz);
    if (!seg || length > 16 * 1024 * 1024) return undefined;
    const bytes = readAt(fd, seg.offset + (addr - seg.vaddr), length);
    return bytes.length === length ? bytes : undefined;
  };
}
