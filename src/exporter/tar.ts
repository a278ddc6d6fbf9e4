// The tar exporter: the final filesystem as one tar archive, to a file or to standard output.
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { Writable } from "node:stream";
import { KitError } from "../util/errors.ts";
import type { VertexProgress } from "../util/progress.ts";
import { packTree } from "../archive/tar.ts";
import { TarWriter } from "../archive/tar-writer.ts";
import { formatBytes } from "../util/units.ts";

export async function exportTar(
  rootfs: string | undefined,
  dest: string,
  stdout: (chunk: Uint8Array) => Promise<void>,
  progress: VertexProgress,
  signal: AbortSignal,
): Promise<void> {
  const tar = new TarWriter();
  const sink = dest === "-" ? new Writable({ write: (chunk, _enc, cb) => void stdout(chunk).then(() => cb(), cb) }) : createWriteStream(dest);
  let total = 0;
  const written = pipeline(tar.stream, sink, { signal });
  try {
    if (rootfs !== undefined) await packTree(rootfs, tar, { signal, onFile: (n) => (total += n) });
    await tar.finish();
    await written;
  } catch (e) {
    tar.abort(e instanceof Error ? e : new Error(String(e)));
    await written.catch(() => {});
    if (e instanceof KitError) throw e;
    throw new KitError("E_EXPORT_TAR", `failed to write tar to "${dest}": ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  progress.statusDone(`sending tarball ${formatBytes(total)}`);
}
