// Picks the snapshotter: KITBUILD_SNAPSHOTTER when set, else overlay when a test mount works here,
// else native.
import { mkdirSync, rmSync } from "node:fs";
import type { CacheIndex } from "../cache/index.ts";
import { KitError } from "../util/errors.ts";
import { MS_RDONLY } from "../util/libc.ts";
import { mountAt } from "./mount.ts";
import { NativeSnapshotter } from "./native.ts";
import { OverlaySnapshotter } from "./overlay.ts";
import type { Snapshotter } from "./snapshotter.ts";

export async function selectSnapshotter(root: string, index: CacheIndex, forced: string | undefined): Promise<Snapshotter> {
  const isRoot = process.getuid?.() === 0;
  if (forced === "native") return new NativeSnapshotter(root, index, isRoot);
  if (forced === "overlay") return new OverlaySnapshotter(root, index);
  if (forced) {
    throw new KitError("E_USAGE", `unknown snapshotter "${forced}" in KITBUILD_SNAPSHOTTER`, { hint: "use overlay or native" });
  }
  if (await overlayWorks(root)) return new OverlaySnapshotter(root, index);
  return new NativeSnapshotter(root, index, isRoot);
}

async function overlayWorks(root: string): Promise<boolean> {
  const probe = `${root}/tmp/overlay-probe-${process.pid}`;
  try {
    mkdirSync(`${probe}/a`, { recursive: true });
    mkdirSync(`${probe}/b`, { recursive: true });
    await using _m = mountAt(root, "overlay", "overlay", MS_RDONLY, `lowerdir=${probe}/a:${probe}/b`);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
