// The build checks of a normal build: the base images the conversion resolved are remembered by
// the name FROM gave, the Dockerfile is linted with their variables, and the findings go to the
// caller (the CLI prints them after the build, as buildx does); error=true fails the build.
import { type BaseImageInfo, type LintResult, lintDockerfile } from "../frontend/dockerfile/lint/lint.ts";
import type { ImageConfig, Platform } from "../oci/types.ts";
import { KitError } from "../util/errors.ts";
import type { FrontendAttrs } from "./request.ts";

/** The Dockerfile a build or call read: its name (for code frames) and text. */
export type CallSource = { name: string; text: string };

/** A Dockerfile's findings, its base images' variables taken from the configs resolved for it (by the name FROM gave). */
export function lintWith(frontend: FrontendAttrs, text: string, excludePatterns: string[], platform: Platform, images: ReadonlyMap<string, ImageConfig>, allStages: boolean): LintResult {
  return lintDockerfile({
    allStages,
    source: text,
    buildArgs: frontend.buildArgs,
    excludePatterns,
    platform,
    target: frontend.target,
    baseImage: (name) => {
      const config = images.get(name);
      return config ? baseInfo(config) : undefined;
    },
  });
}

function baseInfo(config: ImageConfig): BaseImageInfo {
  const platform: Platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
  return { env: config.config.Env ?? [], shell: (config.config.Shell ?? []).length > 0, platform };
}

/** What a build tells its caller besides progress: the build checks' findings, once the Dockerfile is converted. */
export type BuildHooks = { onChecks?(result: LintResult, source: CallSource): void };

/** Remembers each base image the conversion resolves, by the name FROM gave, for the build checks. */
export function recordingResolver<T extends { config: ImageConfig }>(images: Map<string, ImageConfig>, resolveImage: (ref: string, p: Platform) => Promise<T>) {
  return async (ref: string, p: Platform): Promise<T> => {
    const meta = await resolveImage(ref, p);
    images.set(ref, meta.config);
    return meta;
  };
}

/** A build's checks: handed to the caller, then a failure when the config says error=true (BuildKit fails before solving). */
export function runBuildChecks(frontend: FrontendAttrs, dockerfile: { name: string; text: string }, excludePatterns: string[], platform: Platform, images: ReadonlyMap<string, ImageConfig>, hooks: BuildHooks | undefined): void {
  const result = lintWith(frontend, dockerfile.text, excludePatterns, platform, images, false);
  hooks?.onChecks?.(result, { name: dockerfile.name, text: dockerfile.text });
  if (result.failure) throw new KitError("E_DOCKERFILE_CHECK_FAILED", result.failure, { hint: "fix the build-check warnings, or skip their rules with # check=skip=RULE" });
}
