// Entry names of an archive being extracted, made relative and clean, and the errors for names and
// entries kitbuild refuses to extract.
import { KitError } from "../util/errors.ts";

/** A tar entry name made relative and clean, undefined for the root itself; unsafe names throw. */
export function cleanEntryName(raw: string): string | undefined {
  if (/^[/.]*$/.test(raw) && !raw.includes("..")) return undefined; // "/", "./", ".": the root itself
  if (raw.startsWith("/")) throw unsafe(raw, "an absolute path");
  const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw unsafe(raw, 'a ".." component');
  return parts.length === 0 ? undefined : parts.join("/");
}

export function unsafe(name: string, what: string): KitError {
  return new KitError("E_ARCHIVE_UNSAFE_PATH", `archive entry "${name}" has ${what}`, {
    hint: "the archive or image layer is malformed or malicious; kitbuild refuses to extract it",
  });
}

export function invalid(message: string): KitError {
  return new KitError("E_ARCHIVE_INVALID", message, { hint: "the archive or image layer is malformed" });
}
