// The tar exporter: the final filesystem as one tar archive, to a file or to standard output.
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { resolve } from "node:path";
import { stream, streamPromises } from "../util/lazy-modules.ts";
import { KitError } from "../util/errors.ts";
import type { VertexProgress } from "../util/progress.ts";
import { packTree } from "../archive/tar.ts";
import { TarWriter } from "../archive/tar-writer.ts";
import { formatBytes } from "../util/units.ts";
import { writeFailure } from "../util/write-errors.ts";

/** One platform's part of the archive. */
export type TarPart = {
  /** The filesystem; undefined is an empty one. */
  rootfs: string | undefined;
  /** The directory the files go under in the archive (`platform-split=true`). */
  prefix?: string;
  /** Files added after the filesystem (the build's attestations), under `prefix` too. */
  extra?: ReadonlyArray<{ name: string; bytes: Uint8Array }>;
};

/** Writes each part in order (several with several platforms). */
export async function exportTar(
  parts: readonly TarPart[],
  dest: string,
  stdout: (chunk: Uint8Array) => Promise<void>,
  progress: VertexProgress,
  signal: AbortSignal,
): Promise<void> {
  const tar = new TarWriter();
  const sink = dest === "-" ? new (stream().Writable)({ write: (chunk, _enc, cb) => void stdout(chunk).then(() => cb(), cb) }) : createWriteStream(dest);
  let total = 0;
  const written = streamPromises().pipeline(tar.stream, sink, { signal });
  // A sink that fails first (a read-only or full disk) is handled below, not as an unhandled rejection.
  written.catch(() => {});
  try {
    for (const { rootfs, prefix, extra = [] } of parts) {
      if (rootfs !== undefined) await packTree(rootfs, tar, { signal, onFile: (n) => (total += n), ...(prefix ? { prefix } : {}) });
      for (const f of extra) await tar.entry({ name: prefix ? `${prefix}/${f.name}` : f.name, type: "file", mode: 0o644, size: f.bytes.length, uid: 0, gid: 0, mtimeNs: 0n }, oneChunk(f.bytes));
    }
    await tar.finish();
    await written;
  } catch (e) {
    tar.abort(e instanceof Error ? e : new Error(String(e)));
    // The sink's own error (a full or read-only disk) says more than the tar writer's abort.
    const cause = await written.then(() => e, (w: unknown) => w);
    // A partial archive is no use to anyone (and holds the space the message reports).
    if (dest !== "-") await rm(dest, { force: true }).catch(() => {});
    const mapped = writeFailure(cause, { path: dest === "-" ? "standard output" : resolve(dest), area: "output", written: total });
    if (mapped !== cause) throw mapped;
    if (e instanceof KitError) throw e;
    throw new KitError("E_EXPORT_TAR", `failed to write tar to "${dest}": ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  progress.statusDone(`sending tarball ${formatBytes(total)}`);
}

async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
