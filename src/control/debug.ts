// `kitbuild debug`: a Dockerfile converted into its build graph and image config without running
// anything. The cache root and registry are opened only when a FROM names an image to pin, or
// when `debug image-config` looks the build's result up in the cache.
import { resolve } from "node:path";
import type { ConvertResult } from "../frontend/dockerfile/convert/convert.ts";
import { parseDockerignore } from "../frontend/dockerfile/dockerignore.ts";
import type { Edge } from "../llb/ops.ts";
import { mergeDefinitions, targetPlatforms } from "./platform-builds.ts";
import type { ProgressSink } from "../util/progress.ts";
import { type BuildEnvironment, openEnvironment } from "./environment.ts";
import { ExecServices } from "../worker/session/exec-services.ts";
import { BuildSession } from "./session.ts";
import type { DebugRequest } from "./request.ts";
import { checkContextDir } from "../source/local.ts";
import type { Platform } from "../oci/types.ts";
import { namedContexts } from "./named-contexts.ts";
import { convertRequest, loadDockerfile, readDockerignore, resolveForFrontend } from "./solve.ts";

/**
 * The first platform's conversion, its definition replaced by every platform's graphs merged (one
 * root per platform, as a build solves them), and each platform's own conversion.
 */
export type DebugResult = ConvertResult & { dockerfile: string; platforms: Array<{ platform: Platform; converted: ConvertResult; root: Edge }> };

export function convertOnly(req: DebugRequest, progress: ProgressSink, signal: AbortSignal): Promise<DebugResult> {
  return withConversion(req, progress, signal, async (result) => result);
}

/** The build's session, opened (with the cache root and registry) only when asked for. */
export type SessionOf = () => Promise<BuildSession>;

/** Converts the request, then hands the result to `use` with the session it may open; closes what was opened. */
export async function withConversion<T>(req: DebugRequest, progress: ProgressSink, signal: AbortSignal, use: (result: DebugResult, sessionOf: SessionOf) => Promise<T>): Promise<T> {
  const contextDir = resolve(req.frontend.contextDir);
  checkContextDir(contextDir);
  const dockerfile = loadDockerfile(req.frontend, contextDir);
  const excludePatterns = parseDockerignore(readDockerignore(contextDir, dockerfile.path));
  const platforms = targetPlatforms(req.frontend);
  const multi = platforms.length > 1;
  const platform = platforms[0] as Platform;
  let opened: Promise<BuildEnvironment> | undefined;
  let session: BuildSession | undefined;
  try {
    const sessionOf = async () => {
      opened ??= openEnvironment({ config: req.config, env: req.env, ...req.registry });
      // Nothing runs: the session only resolves images and looks results up, so it needs no secrets, agents or entitlements.
      session ??= new BuildSession(await opened, contextDir, platform, signal, new ExecServices({ secrets: [], ssh: [], allow: [], env: req.env }));
      return session;
    };
    const resolveImage = async (ref: string, p: Platform, name?: string) => resolveForFrontend(await sessionOf(), progress, ref, p, name, multi && name === undefined);
    const contexts = namedContexts(req.frontend.namedContexts ?? {}, { resolveImage, signal });
    const builds: ConvertResult[] = [];
    for (const p of platforms) builds.push(await convertRequest(req.frontend, dockerfile, excludePatterns, p, (ref, rp) => resolveImage(ref, rp), contexts, multi));
    const merged = mergeDefinitions(builds.map((b) => b.definition));
    const each = builds.map((converted, i) => ({ platform: platforms[i] as Platform, converted, root: merged.roots[i] as Edge }));
    return await use({ ...(builds[0] as ConvertResult), definition: merged.definition, dockerfile: dockerfile.name, platforms: each }, sessionOf);
  } finally {
    session?.close();
    const env = await opened?.catch(() => undefined);
    await env?.[Symbol.asyncDispose]();
  }
}
