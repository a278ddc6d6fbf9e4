// Build checks and the other frontend calls of `kitbuild build`: `--call=check` (`--check`),
// `--call=outline` and `--call=targets` answer without building, as BuildKit's frontend answers
// its lint, outline and targets subrequests; `lintBuild` gives a normal build its findings.
import { resolve } from "node:path";
import { parseDockerignore } from "../frontend/dockerfile/dockerignore.ts";
import { type LintWarning, lintDockerfile } from "../frontend/dockerfile/lint/lint.ts";
import { baseImageKey, type CallSource, lintWith } from "./build-checks.ts";
import { listTargets, type Outline, outlineOf, type Target } from "../frontend/dockerfile/outline.ts";
import { checkSyntax } from "../frontend/dockerfile/syntax.ts";
import { hostPlatform } from "../oci/platform.ts";
import type { ImageConfig, Platform } from "../oci/types.ts";
import { checkContextDir } from "../source/local.ts";
import type { ProgressSink } from "../util/progress.ts";
import { ExecServices } from "../worker/session/exec-services.ts";
import { type BuildEnvironment, openEnvironment } from "./environment.ts";
import type { BuildRequest } from "./request.ts";
import { BuildSession } from "./session.ts";
import { prepareBuildContext } from "./build-context.ts";
import { contextKey } from "./named-contexts.ts";
import { loadDockerfile, readDockerignore, resolveForFrontend } from "./solve.ts";
import { toKitError } from "../frontend/dockerfile/convert/convert.ts";

export type { CallSource } from "./build-checks.ts";
export type { LintWarning, Outline, Target };

export type CallKind = "check" | "outline" | "targets";

export type CallResult =
  | { kind: "check"; source: CallSource; warnings: LintWarning[]; failure: string | undefined }
  | { kind: "outline"; source: CallSource; outline: Outline }
  | { kind: "targets"; source: CallSource; targets: Target[] };

export type CallRequest = Pick<BuildRequest, "frontend" | "registry" | "env" | "config" | "session">;

export async function runCall(req: CallRequest, kind: CallKind, progress: ProgressSink, signal: AbortSignal): Promise<CallResult> {
  // Secrets and agents are checked as a build checks them; the agents reach git contexts over ssh.
  await using exec = new ExecServices({ ...req.session, env: req.env });
  // A git, URL or stdin context is fetched as for a build (the Dockerfile may be inside it).
  await using context = await prepareBuildContext(req.frontend, exec.ssh, progress, signal);
  req = { ...req, frontend: context.frontend };
  const contextDir = resolve(req.frontend.contextDir);
  checkContextDir(req.frontend.contextDir);
  const dockerfile = loadDockerfile(req.frontend, contextDir);
  checkSyntax(dockerfile.text, dockerfile.name, req.frontend.buildArgs);
  const lines = dockerfile.text.split("\n");
  try {
    return await answer(req, kind, dockerfile, contextDir, exec, progress, signal);
  } catch (e) {
    // A Dockerfile the build would refuse is refused here with the build's error and code frame.
    throw toKitError(e, dockerfile.name, (loc) => ({ file: dockerfile.name, startLine: loc.startLine, endLine: loc.endLine, lines }));
  }
}

async function answer(req: CallRequest, kind: CallKind, dockerfile: ReturnType<typeof loadDockerfile>, contextDir: string, exec: ExecServices, progress: ProgressSink, signal: AbortSignal): Promise<CallResult> {
  const source = { name: dockerfile.name, text: dockerfile.text };
  const platform = hostPlatform();
  if (kind === "targets") return { kind, source, targets: listTargets(dockerfile.text) };
  if (kind === "outline") return { kind, source, outline: outlineOf(dockerfile.text, req.frontend.buildArgs, req.frontend.target, platform) };
  const excludePatterns = parseDockerignore(readDockerignore(contextDir, dockerfile.path));
  const images = await resolveBaseImages(req, dockerfile.text, excludePatterns, platform, contextDir, exec, progress, signal);
  // BuildKit's check without a target checks every stage; with one, the stages it needs.
  const result = lintWith(req.frontend, dockerfile.text, excludePatterns, platform, images, req.frontend.target === undefined);
  return { kind, source, ...result };
}

/** Every external base image of the Dockerfile, resolved (as BuildKit's check does) for its variables and platform. */
async function resolveBaseImages(req: CallRequest, text: string, excludePatterns: string[], platform: Platform, contextDir: string, exec: ExecServices, progress: ProgressSink, signal: AbortSignal): Promise<Map<string, ImageConfig>> {
  const names = new Map<string, { name: string; platform: Platform }>();
  // A first pass only learns which names (and platforms: FROM --platform) the FROM lines expand to.
  const baseImage = (name: string, p: Platform) => void names.set(baseImageKey(name, p), { name, platform: p });
  lintDockerfile({ allStages: req.frontend.target === undefined, source: text, buildArgs: req.frontend.buildArgs, excludePatterns, platform, target: req.frontend.target, baseImage });
  // A stage replaced by --build-context is not an image to resolve (its variables are then not judged).
  for (const [k, { name }] of names) {
    const key = contextKey(name);
    if (key !== undefined && req.frontend.namedContexts?.[key] !== undefined) names.delete(k);
  }
  const images = new Map<string, ImageConfig>();
  if (names.size === 0) return images;
  let opened: BuildEnvironment | undefined;
  try {
    opened = await openEnvironment({ config: req.config, env: req.env, ...req.registry });
    const session = new BuildSession(opened, contextDir, platform, signal, exec);
    try {
      await Promise.all([...names].map(async ([k, n]) => images.set(k, (await resolveForFrontend(session, progress, n.name, n.platform)).config)));
    } finally {
      session.close();
    }
  } finally {
    await opened?.[Symbol.asyncDispose]();
  }
  return images;
}
