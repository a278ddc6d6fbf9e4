// One build from request to exported result: load the Dockerfile and .dockerignore, convert to a
// graph (resolving base images), solve it, and export the root filesystem.
import { readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { exportLocal } from "../exporter/local.ts";
import type { OutputSpec } from "../exporter/image-options.ts";
import { exportTar } from "../exporter/tar.ts";
import { type ConvertOptions, type ConvertResult, convertDockerfile } from "../frontend/dockerfile/convert/convert.ts";
import { parseDockerignore } from "../frontend/dockerfile/dockerignore.ts";
import { hostPlatform } from "../oci/platform.ts";
import type { Platform } from "../oci/types.ts";
import { formatReference, parseReference } from "../registry/reference.ts";
import { Solver } from "../solver/scheduler.ts";
import { KitError, errnoCode } from "../util/errors.ts";
import { type ProgressSink, progressTask } from "../util/progress.ts";
import { formatBytes } from "../util/units.ts";
import { type Entitlement, ExecServices } from "../worker/runc/exec-services.ts";
import type { SecretSource } from "../worker/runc/secrets.ts";
import type { SshSource } from "../worker/runc/ssh-agents.ts";
import { type BuildEnvironment, openEnvironment } from "./environment.ts";
import { deniedEntitlement } from "./ops/exec.ts";
import { runnerFor } from "./ops/runner-for.ts";
import { type BuildRef, snapshotIdOf } from "./refs.ts";
import { indexResultStore } from "./result-store.ts";
import { BuildSession } from "./session.ts";


export type BuildRequest = {
  contextDir: string;
  /** Path of the Dockerfile; undefined means CONTEXT/Dockerfile. */
  dockerfilePath: string | undefined;
  /** The Dockerfile's text when it came on stdin (-f -). */
  dockerfileText: string | undefined;
  buildArgs: Record<string, string>;
  target: string | undefined;
  outputs: OutputSpec[];
  noCache: boolean;
  noCacheFilter: string[];
  /** Explain every cache miss (--debug-cache, KITBUILD_DEBUG_CACHE=1). */
  debugCache: boolean;
  insecureRegistries: string[];
  maxParallelism: number;
  /** --secret, --ssh and --allow: what RUN steps may use. */
  secrets: SecretSource[];
  ssh: SshSource[];
  allow: Entitlement[];
  env: Record<string, string | undefined>;
  /** Writes bytes to standard output (for `-o type=tar,dest=-`). */
  stdout: (chunk: Uint8Array) => Promise<void>;
};

export type BuildResult = { unusedBuildArgs: string[] };

export async function build(req: BuildRequest, progress: ProgressSink, signal: AbortSignal): Promise<BuildResult> {
  const contextDir = resolve(req.contextDir);
  // Secrets and ssh agents are checked first, as buildx does before it starts a build.
  await using exec = new ExecServices({ secrets: req.secrets, ssh: req.ssh, allow: req.allow, env: req.env });
  const dockerfile = await progressTask(progress, "load-dockerfile", "[internal] load build definition from Dockerfile", async (p) => {
    const loaded = loadDockerfile(req, contextDir);
    p.statusDone(`transferring dockerfile: ${formatBytes(Buffer.byteLength(loaded.text))}`);
    return loaded;
  });
  const excludePatterns = await progressTask(progress, "load-dockerignore", "[internal] load .dockerignore", async (p) => {
    const text = readDockerignore(contextDir, dockerfile.path);
    p.statusDone(`transferring context: ${formatBytes(Buffer.byteLength(text))}`);
    return parseDockerignore(text);
  });
  await using env = await openEnvironment({ env: req.env, insecureRegistries: req.insecureRegistries });
  const platform = hostPlatform();
  const session = new BuildSession(env, contextDir, platform, signal, exec);
  const converted = await convertRequest(req, dockerfile, excludePatterns, platform, (ref, p) => resolveForFrontend(session, progress, ref, p));
  const denied = deniedEntitlement(converted.definition, exec);
  if (denied) throw locate(denied.error, denied.digest, converted.definition.metadata, dockerfile);
  const opsByDigest = new Map(converted.definition.vertices.map((v) => [v.digest, v.vertex.op]));
  session.definition = converted.definition;
  const solver = new Solver<BuildRef>({
    definition: converted.definition,
    runnerFor: (v) => runnerFor(session, v, v.vertex.inputs.map((e) => opsByDigest.get(e.digest))),
    store: indexResultStore(env.index, env.claims, env.leases, session.explainer),
    explainMisses: req.debugCache,
    maxParallelism: req.maxParallelism,
    noCache: req.noCache,
    progress,
    signal,
  });
  let root: BuildRef;
  try {
    root = await solver.solve();
  } catch (e) {
    throw locate(e, solver.failedVertex, converted.definition.metadata, dockerfile);
  } finally {
    session.close();
  }
  try {
    await exportAll(env, req, root, progress, signal);
  } finally {
    await root.release();
  }
  return { unusedBuildArgs: converted.unusedBuildArgs };
}

/** The request's Dockerfile as a graph and image config for `platform` (built on the same platform). */
export function convertRequest(
  req: Pick<BuildRequest, "buildArgs" | "target" | "noCacheFilter">,
  dockerfile: LoadedDockerfile,
  excludePatterns: string[],
  platform: Platform,
  resolveImage: ConvertOptions["resolveImage"],
): Promise<ConvertResult> {
  return convertDockerfile({
    source: dockerfile.text,
    filename: dockerfile.name,
    buildArgs: req.buildArgs,
    target: req.target,
    platform,
    buildPlatform: platform,
    excludePatterns,
    noCacheStages: req.noCacheFilter,
    resolveImage,
  });
}

export type LoadedDockerfile = { text: string; path: string | undefined; name: string };

export function loadDockerfile(req: Pick<BuildRequest, "dockerfilePath" | "dockerfileText">, contextDir: string): LoadedDockerfile {
  if (req.dockerfileText !== undefined) return { text: req.dockerfileText, path: undefined, name: "Dockerfile" };
  const path = req.dockerfilePath ? resolve(req.dockerfilePath) : `${contextDir}/Dockerfile`;
  try {
    return { text: readFileSync(path, "utf8"), path, name: basename(path) };
  } catch (e) {
    const missing = errnoCode(e) === "ENOENT";
    throw new KitError("E_DOCKERFILE_NOT_FOUND", `failed to read dockerfile "${path}": ${missing ? "no such file" : errnoCode(e) ?? "error"}`, {
      cause: e,
      hint: missing ? "pass the Dockerfile with -f PATH, or run kitbuild in the directory that has one" : undefined,
    });
  }
}

/** A Dockerfile-specific ignore file ("app.Dockerfile.dockerignore") wins over the context's. */
export function readDockerignore(contextDir: string, dockerfilePath: string | undefined): string {
  const candidates = dockerfilePath ? [`${dirname(dockerfilePath)}/${basename(dockerfilePath)}.dockerignore`] : [];
  candidates.push(`${contextDir}/.dockerignore`);
  for (const path of candidates) {
    try {
      return readFileSync(path, "utf8");
    } catch (e) {
      if (errnoCode(e) !== "ENOENT") throw new KitError("E_CONTEXT_IGNORE", `cannot read "${path}"`, { cause: e });
    }
  }
  return "";
}

export async function resolveForFrontend(session: BuildSession, progress: ProgressSink, text: string, platform: Platform) {
  const ref = parseReference(text);
  const shown = formatReference(ref);
  return progressTask(progress, `metadata ${shown}`, `[internal] load metadata for ${shown}`, async () => {
    const img = await session.resolveImage(ref, platform);
    return { ref: formatReference(img.ref), config: img.config };
  });
}

async function exportAll(env: BuildEnvironment, req: BuildRequest, root: BuildRef, progress: ProgressSink, signal: AbortSignal): Promise<void> {
  const id = snapshotIdOf(root);
  for (const [i, out] of req.outputs.entries()) {
    if (out.type !== "local" && out.type !== "tar") {
      throw new KitError("E_EXPORT_UNSUPPORTED", `output type "${out.type}" is not wired yet`, { hint: "use type=local or type=tar" });
    }
    const name = out.type === "local" ? "exporting to client directory" : "exporting to client tarball";
    await progressTask(progress, `export-${i}`, name, async (p) => {
      await using mounted = id === null ? undefined : await env.snapshotter.mountReadonly(id);
      if (out.type === "local") await exportLocal(mounted?.path, out.dest, p, signal);
      else await exportTar(mounted?.path, out.dest, req.stdout, p, signal);
    });
  }
}

/** Points a step's failure at its Dockerfile lines. */
function locate(e: unknown, vertex: string | undefined, metadata: Record<string, import("../llb/ops.ts").OpMetadata>, dockerfile: LoadedDockerfile): unknown {
  if (!(e instanceof KitError) || !vertex) return e;
  const loc = metadata[vertex]?.location;
  const range = loc?.ranges[0];
  if (!loc || !range) return e;
  return e.withLocation({ file: loc.file, startLine: range.start, endLine: range.end, lines: dockerfile.text.split("\n") });
}
