// Go modules compiled into ELF binaries: the build info block the Go linker writes (Go ≥ 1.18
// inline format: the 32-byte "\xff Go buildinf:" header, then the Go version and the module info as
// varint-length strings; Go 1.13 to 1.17: two pointers to Go strings, read through the ELF's load
// segments). The module info lists the main module (`mod`), each dependency (`dep`) and
// replacements (`=>`). Found in the .go.buildinfo section, or by a 16-byte aligned search when the
// section table is gone.
import { closeSync, fstatSync } from "node:fs";
import { canceledError } from "../../util/abort.ts";
import { elfVirtualReader, findElfSection, isElf, type VirtualReader } from "./elf.ts";
import type { FoundPackage } from "./found-package.ts";
import { purl } from "./purl.ts";
import { openRegularFile, readAt } from "./root-files.ts";

/** "\xff Go buildinf:", 14 bytes. */
const MAGIC = Uint8Array.from([0xff, ...new TextEncoder().encode(" Go buildinf:")]);
const HEADER = 32;
const FLAG_INLINE = 0x2;
/** Binaries without a section table larger than this are not searched. */
const MAX_SEARCH_BYTES = 256 * 1024 * 1024;
const CHUNK = 4 * 1024 * 1024;

export type GoBuildInfo = { goVersion: string; modInfo: string };

export function scanGo(root: string, executables: readonly string[], signal: AbortSignal): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const path of executables) {
    if (signal.aborted) throw canceledError(signal);
    const info = readGoBuildInfo(`${root}${path}`);
    if (info) out.push(...goPackages(info, path));
  }
  return out;
}

/** The build info of the ELF file at `host` (never a symlink), or undefined. */
export function readGoBuildInfo(host: string): GoBuildInfo | undefined {
  const fd = openRegularFile(host);
  if (fd === undefined) return undefined;
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || !isElf(readAt(fd, 0, 16))) return undefined;
    const at = headerOffset(fd, st.size);
    if (at === undefined) return undefined;
    const block = readAt(fd, at, Math.min(st.size - at, 4 * 1024 * 1024));
    return parseInline(block) ?? parsePointers(block, elfVirtualReader(fd, st.size));
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function headerOffset(fd: number, size: number): number | undefined {
  const section = findElfSection(fd, size, ".go.buildinfo");
  // A section table without the section is a binary of another language: nothing to search for.
  if (section === "absent") return undefined;
  if (section && startsWithMagic(readAt(fd, section.offset, MAGIC.length))) return section.offset;
  if (size > MAX_SEARCH_BYTES) return undefined;
  for (let start = 0; start < size; start += CHUNK) {
    const chunk = readAt(fd, start, CHUNK + MAGIC.length);
    for (let i = 0; i + MAGIC.length <= chunk.length && i < CHUNK; i += 16) {
      if (chunk[i] === 0xff && startsWithMagic(chunk.subarray(i))) return start + i;
    }
  }
  return undefined;
}

function startsWithMagic(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}

/** Parses the header and its two inline strings; undefined for the older pointer format. */
export function parseInline(block: Uint8Array): GoBuildInfo | undefined {
  if (block.length < HEADER || !startsWithMagic(block) || ((block[15] as number) & FLAG_INLINE) === 0) return undefined;
  const version = varintString(block, HEADER);
  if (!version) return undefined;
  const mod = varintString(block, version.next);
  if (!mod) return undefined;
  const decoder = new TextDecoder();
  let modInfo = mod.bytes;
  // The module info is framed by 16-byte sentinels (so `go version -m` can find it in memory).
  if (modInfo.length >= 33 && modInfo[modInfo.length - 17] === 0x0a) modInfo = modInfo.subarray(16, modInfo.length - 16);
  return { goVersion: decoder.decode(version.bytes), modInfo: decoder.decode(modInfo) };
}

/** The pre-1.18 format: at offset 16, the addresses of two Go string headers (data pointer, length). */
export function parsePointers(block: Uint8Array, read: VirtualReader | undefined): GoBuildInfo | undefined {
  if (!read || block.length < HEADER || !startsWithMagic(block)) return undefined;
  const ptrSize = block[14] as number;
  const le = ((block[15] as number) & 1) === 0;
  if (ptrSize !== 4 && ptrSize !== 8) return undefined;
  const pointer = (bytes: Uint8Array, at: number) => {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return ptrSize === 8 ? Number(v.getBigUint64(at, le)) : v.getUint32(at, le);
  };
  const goString = (addr: number): Uint8Array | undefined => {
    const header = read(addr, 2 * ptrSize);
    if (!header) return undefined;
    // An empty Go string may have a nil data pointer (no module info in a GOPATH build).
    const length = pointer(header, ptrSize);
    return length === 0 ? new Uint8Array(0) : read(pointer(header, 0), length);
  };
  const version = goString(pointer(block, 16));
  let mod = goString(pointer(block, 16 + ptrSize));
  if (!version || !mod) return undefined;
  if (mod.length >= 33 && mod[mod.length - 17] === 0x0a) mod = mod.subarray(16, mod.length - 16);
  const decoder = new TextDecoder();
  return { goVersion: decoder.decode(version), modInfo: decoder.decode(mod) };
}

function varintString(buf: Uint8Array, at: number): { bytes: Uint8Array; next: number } | undefined {
  let length = 0;
  let shift = 0;
  let i = at;
  for (; i < buf.length && shift < 35; i++, shift += 7) {
    const b = buf[i] as number;
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  const start = i + 1;
  if (i >= buf.length || start + length > buf.length) return undefined;
  return { bytes: buf.subarray(start, start + length), next: start + length };
}

type Module = { path: string; version: string };

/** The Go standard library (as the Go version), the main module and every dependency. */
export function goPackages(info: GoBuildInfo, path: string): FoundPackage[] {
  const modules: Module[] = [];
  let main: Module | undefined;
  let programPath: string | undefined;
  for (const line of info.modInfo.split("\n")) {
    const [kind, modPath, version] = line.split("\t");
    if (kind === "path" && modPath) programPath = modPath;
    else if ((kind === "mod" || kind === "dep") && modPath && version !== undefined) {
      modules.push({ path: modPath, version });
      if (kind === "mod") main = modules.at(-1);
    } else if (kind === "=>" && modPath && modules.length > 0) {
      // A replacement applies to the module listed just before it.
      modules[modules.length - 1] = { path: modPath, version: version || "(devel)" };
    }
  }
  // GOPATH builds (as Debian's) name the program but carry no module: the program is still reported.
  if (!main && programPath) modules.push({ path: programPath, version: "(devel)" });
  const goVersion = info.goVersion.split(/\s+/)[0] ?? "";
  const out = modules.map((m) => goPackage(m.path, m.version, path));
  if (goVersion.startsWith("go")) out.push({ ...goPackage("stdlib", goVersion.slice(2), path), version: goVersion });
  return out;
}

function goPackage(modPath: string, version: string, path: string): FoundPackage {
  const slash = modPath.lastIndexOf("/");
  return {
    ecosystem: "golang",
    name: modPath,
    version,
    // "(devel)" is no version a purl reader could use: the purl names the module alone.
    purl: purl({ type: "golang", namespace: slash < 0 ? undefined : modPath.slice(0, slash), name: modPath.slice(slash + 1), version: version === "(devel)" ? undefined : version }),
    foundIn: path,
    foundBy: "go module build info in binary",
  };
}
