// `kitbuild debug`: a Dockerfile converted into its build graph and image config without running
// anything. The cache root and registry are opened only when a FROM names an image to pin.
import { resolve } from "node:path";
import type { ConvertResult } from "../frontend/dockerfile/convert/convert.ts";
import { parseDockerignore } from "../frontend/dockerfile/dockerignore.ts";
import { hostPlatform } from "../oci/platform.ts";
import type { ProgressSink } from "../util/progress.ts";
import { type BuildEnvironment, openEnvironment } from "./environment.ts";
import { ExecServices } from "../worker/session/exec-services.ts";
import { BuildSession } from "./session.ts";
import type { DebugRequest } from "./request.ts";
import { checkContextDir } from "../source/local.ts";
import type { Platform } from "../oci/types.ts";
import { namedContexts } from "./named-contexts.ts";
import { convertRequest, loadDockerfile, readDockerignore, resolveForFrontend } from "./solve.ts";

export type DebugResult = ConvertResult & { dockerfile: string };

export async function convertOnly(req: DebugRequest, progress: ProgressSink, signal: AbortSignal): Promise<DebugResult> {
  const contextDir = resolve(req.frontend.contextDir);
  checkContextDir(contextDir);
  const dockerfile = loadDockerfile(req.frontend, contextDir);
  const excludePatterns = parseDockerignore(readDockerignore(contextDir, dockerfile.path));
  const platform = hostPlatform();
  let opened: Promise<BuildEnvironment> | undefined;
  let session: BuildSession | undefined;
  try {
    const resolveImage = async (ref: string, p: Platform, name?: string) => {
      opened ??= openEnvironment({ config: req.config, env: req.env, ...req.registry });
      // Nothing runs: the session only resolves images, so it needs no secrets, agents or entitlements.
      session ??= new BuildSession(await opened, contextDir, platform, signal, new ExecServices({ secrets: [], ssh: [], allow: [], env: req.env }));
      return resolveForFrontend(session, progress, ref, p, name);
    };
    const contexts = namedContexts(req.frontend.namedContexts ?? {}, { resolveImage, signal });
    const converted = await convertRequest(req.frontend, dockerfile, excludePatterns, platform, (ref, p) => resolveImage(ref, p), contexts);
    return { ...converted, dockerfile: dockerfile.name };
  } finally {
    const env = await opened?.catch(() => undefined);
    await env?.[Symbol.asyncDispose]();
  }
}
