// Build secrets (--secret id=ID,src=FILE | id=ID,env=VAR): where each one comes from, checked when
// the build starts and read only when a step uses it. A value lives in memory and in the executor's
// memory-backed state directory, never on disk, in a cache key, a layer or a log line.
import { readFileSync, statSync } from "node:fs";
import { KitError, errnoCode } from "../../util/errors.ts";

export type SecretSource = { id: string; file?: string; env?: string };

/** BuildKit's cap on one secret's size. */
const MAX_SECRET_SIZE = 500 * 1024;

export class SecretStore {
  private readonly sources = new Map<string, { file?: string; env?: string }>();

  /** Checks every source now, so a missing file fails the build before any step runs. */
  constructor(
    sources: readonly SecretSource[],
    private readonly env: Record<string, string | undefined>,
  ) {
    for (const s of sources) {
      if (!s.id) throw new KitError("E_USAGE", "a --secret has no id", { hint: "write it as --secret id=ID,src=FILE or --secret id=ID,env=VAR" });
      // Only an id: the variable of that name when it is set, else the file of that name (as buildx).
      const resolved = s.file === undefined && s.env === undefined ? (env[s.id] !== undefined ? { env: s.id } : { file: s.id }) : s;
      if (resolved.file !== undefined) checkSecretFile(s.id, resolved.file);
      this.sources.set(s.id, { file: resolved.file, env: resolved.env });
    }
  }

  has(id: string): boolean {
    return this.sources.has(id);
  }

  /** The secret's value, or undefined when no --secret gave this id. */
  get(id: string): Uint8Array | undefined {
    const s = this.sources.get(id);
    if (!s) return undefined;
    if (s.env !== undefined) return new TextEncoder().encode(this.env[s.env] ?? "");
    const data = readFileSync(s.file as string);
    if (data.length > MAX_SECRET_SIZE) throw tooBig(id);
    return data;
  }
}

function checkSecretFile(id: string, file: string): void {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    throw new KitError("E_USAGE", `secret "${id}": cannot read "${file}": ${errnoCode(e) === "ENOENT" ? "no such file" : errnoCode(e) ?? "error"}`, {
      cause: e,
      hint: "check the src= path of --secret, or use env=VAR to take the value from a variable",
    });
  }
  if (size > MAX_SECRET_SIZE) throw tooBig(id);
}

function tooBig(id: string): KitError {
  return new KitError("E_USAGE", `secret "${id}" is too big: the maximum size is 500KiB`, {
    hint: "pass a smaller secret, or mount the data another way (a bind mount from a stage)",
  });
}
