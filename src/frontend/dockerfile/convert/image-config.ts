// The image config a stage starts from: its base image's, or scratch's (BuildKit's emptyImage),
// with the step-independent fields a build does not carry over.
import { normalizePlatform } from "../../../oci/platform.ts";
import type { ImageConfig, Platform } from "../../../oci/types.ts";
import { DEFAULT_PATH } from "./state.ts";

/** A base image's config as a stage starts from it: its creation time is not inherited. */
export function baseImageConfig(base: ImageConfig): ImageConfig {
  const image = structuredClone(base);
  delete image.created;
  image.config ??= {};
  image.rootfs ??= { type: "layers", diff_ids: [] };
  return image;
}

export function scratchConfig(platform: Platform): ImageConfig {
  const image: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    config: { WorkingDir: "/" },
    rootfs: { type: "layers", diff_ids: [] },
  };
  if (platform.variant) image.variant = platform.variant;
  if (platform["os.version"]) image["os.version"] = platform["os.version"];
  // Windows gets its PATH from the OS.
  if (platform.os !== "windows") image.config.Env = [`PATH=${DEFAULT_PATH}`];
  return image;
}

/**
 * The target image's platform when --platform named it (BuildKit's conversion, unless the target
 * is implicit): its OS and architecture, and the variant and OS version when given or when the
 * base image was of another OS or architecture (a single-platform base the build warned about).
 */
export function withTargetPlatform(image: ImageConfig, target: Platform): ImageConfig {
  const same = image.os === target.os && image.architecture === target.architecture;
  const out: ImageConfig = { ...image, os: target.os, architecture: target.architecture };
  if (target.variant || !same) {
    if (target.variant) out.variant = target.variant;
    else delete out.variant;
  }
  if (target["os.version"] || !same) {
    if (target["os.version"]) out["os.version"] = target["os.version"];
    else delete out["os.version"];
  }
  return out;
}

/** The image's platform in containerd's normal form (BuildKit normalizes the target's: arm64/v8 → arm64). */
export function normalizedImagePlatform(image: ImageConfig): ImageConfig {
  if (!image.os || !image.architecture) return image;
  const p = normalizePlatform({ os: image.os, architecture: image.architecture, ...(image.variant ? { variant: image.variant } : {}) });
  const out: ImageConfig = { ...image, os: p.os, architecture: p.architecture };
  if (p.variant) out.variant = p.variant;
  else delete out.variant;
  return out;
}

/** Whether a resolved image has no filesystem (no layers, and no history entry that made one). */
export function isEmptyImage(image: ImageConfig): boolean {
  if ((image.rootfs?.diff_ids ?? []).length > 0) return false;
  return (image.history ?? []).every((h) => h.empty_layer === true);
}

/** The shell of shell-form commands: SHELL's, else the OS default. */
function shellOf(image: ImageConfig): string[] {
  if (image.config.Shell && image.config.Shell.length > 0) return [...image.config.Shell];
  return image.os === "windows" ? ["cmd", "/S", "/C"] : ["/bin/sh", "-c"];
}

export function withShell(image: ImageConfig, args: readonly string[]): string[] {
  return [...shellOf(image), args.join(" ")];
}
