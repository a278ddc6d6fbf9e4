// The distribution of a root filesystem, from os-release (/etc first, then /usr/lib, as systemd
// reads it), for the purl's namespace and its `distro` qualifier.
import type { RootFiles } from "./root-files.ts";

export type OsRelease = { id?: string; versionId?: string };

export function readOsRelease(files: RootFiles): OsRelease {
  const text = files.readText("/etc/os-release", 64 * 1024) ?? files.readText("/usr/lib/os-release", 64 * 1024);
  if (text === undefined) return {};
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) values.set(m[1] as string, unquote(m[2] as string));
  }
  return { id: values.get("ID") || undefined, versionId: values.get("VERSION_ID") || undefined };
}

function unquote(v: string): string {
  const m = /^"(.*)"$/.exec(v) ?? /^'(.*)'$/.exec(v);
  return m ? (m[1] as string).replace(/\\(["\\$`])/g, "$1") : v;
}

/** The purl `distro` qualifier: "debian-12", or undefined without os-release. */
export function distroQualifier(os: OsRelease): string | undefined {
  if (!os.id) return undefined;
  return os.versionId ? `${os.id}-${os.versionId}` : os.id;
}
