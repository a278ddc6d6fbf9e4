// Picks the snapshotter: KITBUILD_SNAPSHOTTER when set, else the one the cache root was first used
// with, else overlay when a test mount (with an upper dir, as builds need) works here, else native.
// The choice is recorded in the cache root: the two keep incompatible snapshot directories (overlay
// stores changes only), so one root never mixes them.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { release } from "node:os";
import type { CacheIndex } from "../cache/index.ts";
import { errnoCode, KitError } from "../util/errors.ts";
import { mountAt } from "./mount.ts";
import { NativeSnapshotter } from "./native.ts";
import { FIXED_OPTIONS, OverlaySnapshotter } from "./overlay.ts";
import type { Snapshotter } from "./snapshotter.ts";

type Name = Snapshotter["name"];

/**
 * Overlay's options, in order of preference: as root kitbuild turns off the features that make
 * upper dirs hard to diff; in a user namespace overlay needs `userxattr`, which some kernels accept
 * only without those switches. The first that mounts here is used.
 */
const OPTION_CANDIDATES = {
  host: [FIXED_OPTIONS],
  userns: [`${FIXED_OPTIONS},userxattr`, "index=off,userxattr", "userxattr"],
};

export async function selectSnapshotter(root: string, index: CacheIndex, wanted: Name | undefined, inUserNamespace = false): Promise<Snapshotter> {
  const recorded = readRecorded(root);
  if (wanted && recorded && wanted !== recorded) {
    throw new KitError("E_SNAPSHOT_MISMATCH", `the cache in "${root}" holds ${recorded} snapshots and cannot be used with KITBUILD_SNAPSHOTTER=${wanted}`, {
      hint: `unset KITBUILD_SNAPSHOTTER, or set KITBUILD_ROOT to another directory for the ${wanted} snapshotter`,
    });
  }
  const candidates = inUserNamespace ? OPTION_CANDIDATES.userns : OPTION_CANDIDATES.host;
  // As root a recorded or forced overlay is used without a probe (its options never change).
  const needProbe = (wanted ?? recorded) !== "native" && (inUserNamespace || !(wanted ?? recorded));
  const options = needProbe ? await workingOptions(root, candidates) : candidates[0];
  const name = wanted ?? recorded ?? (options ? "overlay" : "native");
  if (name === "overlay" && !options) {
    throw new KitError("E_SNAPSHOT_MOUNT", "overlayfs does not mount here with the options kitbuild needs", {
      hint: `use the native snapshotter: KITBUILD_SNAPSHOTTER=native with another KITBUILD_ROOT than "${root}"`,
    });
  }
  if (!recorded) record(root, name);
  return name === "overlay" ? new OverlaySnapshotter(root, index, options, hasVolatileOverlay(release())) : new NativeSnapshotter(root, index, process.getuid?.() === 0);
}

/** Whether overlayfs takes `volatile`: Linux 5.10 and later. */
export function hasVolatileOverlay(kernelRelease: string): boolean {
  const [major = 0, minor = 0] = (kernelRelease.match(/^(\d+)\.(\d+)/)?.slice(1) ?? []).map(Number);
  return major > 5 || (major === 5 && minor >= 10);
}

function readRecorded(root: string): Name | undefined {
  try {
    const text = readFileSync(`${root}/snapshotter`, "utf8").trim();
    return text === "overlay" || text === "native" ? text : undefined;
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return undefined;
    throw e;
  }
}

function record(root: string, name: Name): void {
  const tmp = `${root}/tmp/snapshotter-${process.pid}`;
  mkdirSync(`${root}/tmp`, { recursive: true });
  writeFileSync(tmp, `${name}\n`);
  renameSync(tmp, `${root}/snapshotter`);
}

async function workingOptions(root: string, candidates: readonly string[]): Promise<string | undefined> {
  for (const options of candidates) if (await overlayWorks(root, options)) return options;
  return undefined;
}

async function overlayWorks(root: string, options: string): Promise<boolean> {
  const probe = `${root}/tmp/overlay-probe-${process.pid}`;
  try {
    for (const d of ["lower", "upper", "work"]) mkdirSync(`${probe}/${d}`, { recursive: true });
    await using _m = mountAt(root, "overlay", "overlay", 0, `lowerdir=${probe}/lower,upperdir=${probe}/upper,workdir=${probe}/work,${options}`);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
