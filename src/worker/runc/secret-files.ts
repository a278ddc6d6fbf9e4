// Secret mounts as runc steps get them: the value written to a file in the step's tmpfs state
// directory (never on disk) and bind-mounted read-only.
import { chmodSync, chownSync, writeFileSync } from "node:fs";
import { randomHex } from "../../util/random.ts";

export type SecretFileOptions = { uid: number; gid: number; mode: number };

/** Writes a secret into `dir` (the step's tmpfs) under a random name; returns its path. */
export function writeSecretFile(dir: string, data: Uint8Array, opts: SecretFileOptions): string {
  const path = `${dir}/${randomHex(12)}`;
  writeFileSync(path, data, { mode: 0o600 });
  chownSync(path, opts.uid, opts.gid);
  chmodSync(path, opts.mode & 0o777);
  return path;
}

/** The bind mount options of a secret file: read-only, no devices, no setuid, noexec unless executable. */
export function secretMountOptions(mode: number): string[] {
  return ["ro", "rbind", "nodev", "nosuid", ...((mode & 0o111) === 0 ? ["noexec"] : [])];
}
