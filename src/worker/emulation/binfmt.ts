// The host's binfmt_misc handlers: whether the kernel itself runs another architecture's binaries
// through an emulator. Only an enabled handler with the F (fix-binary) flag counts: the kernel
// opened its interpreter when it was registered, so it works inside any container; without F the
// interpreter would be looked up in the container's root, where it is not. A handler is matched by
// its magic and mask against an ELF header of the architecture, as the kernel matches binaries (so
// a handler counts whatever its name).
import { readdirSync, readFileSync } from "node:fs";
import { elfHeader } from "./architectures.ts";

export const BINFMT_DIR = "/proc/sys/fs/binfmt_misc";

export type BinfmtHandler = { name: string; interpreter: string; flags: string; offset: number; magic: Uint8Array; mask: Uint8Array | undefined };

/** The enabled magic-matching handlers registered on the host (none when binfmt_misc is not mounted or is disabled). */
export function readBinfmtHandlers(dir = BINFMT_DIR): BinfmtHandler[] {
  let names: string[];
  try {
    if (readFileSync(`${dir}/status`, "utf8").trim() !== "enabled") return [];
    names = readdirSync(dir).filter((n) => n !== "status" && n !== "register");
  } catch {
    return [];
  }
  const handlers: BinfmtHandler[] = [];
  for (const name of names) {
    try {
      const h = parseHandler(name, readFileSync(`${dir}/${name}`, "utf8"));
      if (h) handlers.push(h);
    } catch {
      // unregistered while we read: not a handler
    }
  }
  return handlers;
}

/** One handler's file; undefined when it is disabled or matches by extension. */
export function parseHandler(name: string, text: string): BinfmtHandler | undefined {
  const lines = text.split("\n");
  if (lines[0]?.trim() !== "enabled") return undefined;
  const field = (key: string) => lines.find((l) => l.startsWith(`${key} `) || l.startsWith(`${key}:`))?.slice(key.length + 1).trim();
  const magic = field("magic");
  if (magic === undefined) return undefined;
  const mask = field("mask");
  return {
    name, interpreter: field("interpreter") ?? "", flags: field("flags") ?? "", offset: Number(field("offset") ?? "0"),
    magic: Buffer.from(magic, "hex"), mask: mask === undefined ? undefined : Buffer.from(mask, "hex"),
  };
}

/** The handler with the F flag through which the kernel runs `architecture`'s executables, if any. */
export function fixBinaryHandlerFor(architecture: string, handlers: readonly BinfmtHandler[]): BinfmtHandler | undefined {
  const header = elfHeader(architecture);
  if (!header) return undefined;
  return handlers.find((h) => h.flags.includes("F") && matches(h, header));
}

function matches(h: BinfmtHandler, header: Uint8Array): boolean {
  if (h.magic.length === 0 || h.offset + h.magic.length > header.length) return false;
  for (let i = 0; i < h.magic.length; i++) {
    // The kernel keeps the magic masked, so both sides are masked here too.
    const mask = h.mask ? (h.mask[i] ?? 0xff) : 0xff;
    if (((header[h.offset + i] as number) & mask) !== ((h.magic[i] as number) & mask)) return false;
  }
  return true;
}
