// The image config a stage starts from: its base image's (ONBUILD triggers consumed) or scratch's.
import type { ImageConfig, Platform } from "../../../oci/types.ts";
import { DEFAULT_PATH } from "./state.ts";

export function baseImageConfig(base: ImageConfig, platform: Platform): ImageConfig {
  const image = structuredClone(base);
  image.config ??= {};
  image.architecture ||= platform.architecture;
  image.os ||= platform.os;
  // Triggers run when this image is used as a base, and are not inherited further.
  delete image.config.OnBuild;
  image.rootfs ??= { type: "layers", diff_ids: [] };
  image.history ??= [];
  return image;
}

export function scratchConfig(platform: Platform): ImageConfig {
  const image: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    config: { Env: [DEFAULT_PATH] },
    rootfs: { type: "layers", diff_ids: [] },
    history: [],
  };
  if (platform.variant) image.variant = platform.variant;
  return image;
}
