// The local exporter: the final filesystem copied into a directory, merged into what is there, as
// buildx does. Files belong to the user running kitbuild (BuildKit's receiver does the same); modes,
// times, links and xattrs are kept.
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { copyTree } from "../fs/copy-tree.ts";
import { KitError, errnoCode } from "../util/errors.ts";
import type { VertexProgress } from "../util/progress.ts";
import { formatBytes } from "../util/units.ts";
import { writeFailure } from "../util/write-errors.ts";

/** Copies `rootfs` (undefined: an empty filesystem) into `dest`. */
export async function exportLocal(rootfs: string | undefined, dest: string, progress: VertexProgress, signal: AbortSignal): Promise<void> {
  try {
    mkdirSync(dest, { recursive: true, mode: 0o700 });
  } catch (e) {
    const mapped = writeFailure(e, { path: resolve(dest), area: "output" });
    if (mapped !== e) throw mapped;
    throw new KitError("E_EXPORT_DEST", `cannot create output directory "${dest}"`, {
      cause: e,
      hint: errnoCode(e) === "EEXIST" ? "a file of that name exists; choose another dest" : "check the path and its permissions",
    });
  }
  let total = 0;
  if (rootfs !== undefined) {
    try {
      await copyTree(rootfs, dest, { preserveOwner: false, xattrs: true, keepExistingRoot: true, signal, onFile: (n) => (total += n) });
    } catch (e) {
      throw writeFailure(e, { path: resolve(dest), area: "output", written: total });
    }
  }
  progress.statusDone(`copying files ${formatBytes(total)}`);
}
