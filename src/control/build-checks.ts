// The build checks of a normal build: the base images the conversion resolved are remembered by
// the name FROM gave, the Dockerfile is linted with their variables, and the findings go to the
// caller (the CLI prints them after the build, as buildx does); error=true fails the build.
import { type BaseImageInfo, type LintResult, lintDockerfile } from "../frontend/dockerfile/lint/lint.ts";
import { formatPlatformAll, normalizePlatform } from "../oci/platform.ts";
import type { ImageConfig, Platform } from "../oci/types.ts";
import type { LintWarning } from "../frontend/dockerfile/lint/report.ts";
import { KitError } from "../util/errors.ts";
import type { ProgressSink, WarningEvent } from "../util/progress.ts";
import type { FrontendAttrs } from "./request.ts";

/** The Dockerfile a build or call read: its name (for code frames) and text. */
export type CallSource = { name: string; text: string };

/** The base images a build resolved: configs by the name FROM gave and the platform asked for (baseImageKey). */
export type BaseImages = ReadonlyMap<string, ImageConfig>;

/** How BaseImages knows an image: the same name resolves to another config for another platform. */
export function baseImageKey(name: string, platform: Platform): string {
  return `${name} ${formatPlatformAll(normalizePlatform(platform))}`;
}

/**
 * A Dockerfile's findings, its base images' variables taken from the configs resolved for it.
 * `buildPlatform` (BUILDPLATFORM) is the target platform when not given.
 */
export function lintWith(frontend: FrontendAttrs, text: string, excludePatterns: string[], platform: Platform, images: BaseImages, allStages: boolean, buildPlatform?: Platform): LintResult {
  return lintDockerfile({
    allStages,
    source: text,
    buildArgs: frontend.buildArgs,
    excludePatterns,
    platform,
    buildPlatform,
    target: frontend.target,
    baseImage: (name, p) => {
      const config = images.get(baseImageKey(name, p));
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

/** Remembers each base image the conversion resolves, by the name FROM gave and its platform, for the build checks. */
export function recordingResolver<T extends { config: ImageConfig }>(images: Map<string, ImageConfig>, resolveImage: (ref: string, p: Platform) => Promise<T>) {
  return async (ref: string, p: Platform): Promise<T> => {
    const meta = await resolveImage(ref, p);
    images.set(baseImageKey(ref, p), meta.config);
    return meta;
  };
}

/**
 * A build's checks: handed to the caller and reported as warnings of the Dockerfile's load step
 * (BuildKit's frontend warns on that vertex: rawjson, plain's "WARN:" lines, --metadata-file), then
 * a failure when the config says error=true (BuildKit fails before solving). Returns the warnings.
 * A build for several platforms runs this once per target platform, with that platform's images.
 */
export function runBuildChecks(frontend: FrontendAttrs, dockerfile: { name: string; text: string }, excludePatterns: string[], platform: Platform, images: BaseImages, hooks: BuildHooks | undefined, progress?: ProgressSink, buildPlatform?: Platform): WarningEvent[] {
  const result = lintWith(frontend, dockerfile.text, excludePatterns, platform, images, false, buildPlatform);
  hooks?.onChecks?.(result, { name: dockerfile.name, text: dockerfile.text });
  const events = result.warnings.map((w) => warningEvent(w, dockerfile));
  for (const e of events) progress?.(e);
  if (result.failure) throw new KitError("E_DOCKERFILE_CHECK_FAILED", result.failure, { hint: "fix the build-check warnings, or skip their rules with # check=skip=RULE" });
  return events;
}

/** The progress id of the Dockerfile's load step (control/solve.ts), which BuildKit's lint warnings belong to. */
export const DOCKERFILE_VERTEX = "load-dockerfile";

/** A finding as BuildKit's frontend reports it: "Rule: message (line N)", the description as detail. */
function warningEvent(w: LintWarning, dockerfile: CallSource): WarningEvent {
  const line = w.location?.startLine ?? 0;
  return {
    type: "warning",
    vertex: DOCKERFILE_VERTEX,
    message: `${w.name}: ${w.message}${line > 0 ? ` (line ${line})` : ""}`,
    detail: [w.description],
    ...(w.url ? { url: w.url } : {}),
    source: { filename: dockerfile.name, data: dockerfile.text, language: "Dockerfile" },
    ...(w.location ? { range: { startLine: w.location.startLine, endLine: w.location.endLine } } : {}),
  };
}
