// One build from request to exported result: load the Dockerfile and .dockerignore, convert to a
// graph (resolving base images), solve it, and export the root filesystem.
import { readFileSync } from "node:fs";
import { isImageOutput } from "../exporter/image-options.ts";
import { basename, dirname, resolve } from "node:path";
import { type ConvertOptions, type ConvertResult, convertDockerfile } from "../frontend/dockerfile/convert/convert.ts";
import { parseDockerignore } from "../frontend/dockerfile/dockerignore.ts";
import type { ImageConfig, Platform } from "../oci/types.ts";
import { formatReference, parseReference } from "../registry/reference.ts";
import { KitError, errnoCode } from "../util/errors.ts";
import { type ProgressSink, progressTask } from "../util/progress.ts";
import { formatBytes } from "../util/units.ts";
import { ExecServices } from "../worker/session/exec-services.ts";
import { cacheRootFailure } from "../util/write-errors.ts";
import { gcAfterBuild } from "./auto-gc.ts";
import { openEnvironment } from "./environment.ts";
import { makeAttestations } from "./attestations.ts";
import { exportResult, type ExportOutcome, type ExportRequest } from "./export.ts";
import { LayerPrebuild } from "./layer-prebuild.ts";
import { deniedEntitlement } from "./ops/exec.ts";
import { type BuildRef, snapshotIdOf } from "./refs.ts";
import type { BuildRecord } from "./remote-cache/collect.ts";
import { cacheMountSeeds } from "./remote-cache/cache-mount-transfer.ts";
import { exportCaches, inlineCacheEntries, openCacheImports } from "./remote-cache/remote-caches.ts";
import { isProcessAlive } from "../util/process.ts";
import { checkContextDir } from "../source/local.ts";
import type { NamedContexts } from "../frontend/dockerfile/convert/named-context.ts";
import { namedContexts } from "./named-contexts.ts";
import { prepareBuildContext } from "./build-context.ts";
import type { BuildRequest, FrontendAttrs } from "./request.ts";
import { type BuildHooks, recordingResolver, runBuildChecks } from "./build-checks.ts";
import { checkSyntax } from "../frontend/dockerfile/syntax.ts";
import { BuildSession } from "./session.ts";
import { withSingleIdHint } from "./single-id.ts";
import { definitionSolver } from "./solve-definition.ts";
import { stagesToScan } from "./sbom-attestations.ts";
import type { PlatformResult } from "../exporter/exporter.ts";
import { hostPlatform } from "../oci/platform.ts";
import { mergeDefinitions, metadataStepName, provenanceKeys, targetPlatforms } from "./platform-builds.ts";

/** `image`: the last image an output wrote (-q prints its ID) and where the image store keeps it. */
export type BuildResult = { unusedBuildArgs: string[]; image: ExportOutcome };

/** `hooks.onChecks` receives the build checks' findings once the Dockerfile is converted. */
export async function build(req: BuildRequest, progress: ProgressSink, signal: AbortSignal, hooks?: BuildHooks): Promise<BuildResult> {
  const buildTime = Math.floor(Date.now() / 1000);
  // Secrets and ssh agents are checked first, as buildx does before it starts a build.
  await using exec = new ExecServices({ ...req.session, env: req.env });
  // A git, URL or stdin context is fetched (git over ssh with the --ssh agent) and read as a local
  // one; removed when the build ends.
  await using context = await prepareBuildContext(req.frontend, exec.ssh, progress, signal);
  const contextArg = req.frontend.contextDir;
  req = { ...req, frontend: context.frontend };
  const contextDir = resolve(req.frontend.contextDir);
  checkContextDir(req.frontend.contextDir);
  // Named by the -f file's base name, as buildx passes BuildKit's filename option.
  const definitionName = req.frontend.dockerfileText === undefined && req.frontend.dockerfilePath ? basename(req.frontend.dockerfilePath) : "Dockerfile";
  const dockerfile = await progressTask(progress, "load-dockerfile", `[internal] load build definition from ${definitionName}`, async (p) => {
    const loaded = loadDockerfile(req.frontend, contextDir);
    p.statusDone(`transferring dockerfile: ${formatBytes(Buffer.byteLength(loaded.text))}`);
    return loaded;
  });
  const excludePatterns = await progressTask(progress, "load-dockerignore", "[internal] load .dockerignore", async (p) => {
    const text = readDockerignore(contextDir, dockerfile.path);
    p.statusDone(`transferring context: ${formatBytes(Buffer.byteLength(text))}`);
    return parseDockerignore(text);
  });
  await using env = await openEnvironment({ config: req.config, env: req.env, ...req.registry });
  const platforms = targetPlatforms(req.frontend);
  const multi = platforms.length > 1;
  const platform = platforms[0] as Platform;
  const session = new BuildSession(env, contextDir, platform, signal, exec, req.frontend.pull ? "pull" : "local");
  const contexts = namedContexts(req.frontend.namedContexts ?? {}, { resolveImage: (ref, p, name) => resolveForFrontend(session, progress, ref, p, name), signal });
  const baseImages = new Map<string, ImageConfig>();
  // Each platform's graph over the same Dockerfile; the session resolves each image once per platform.
  const builds: ConvertResult[] = [];
  for (const [i, p] of platforms.entries()) {
    const resolver = (ref: string, rp: Platform) => resolveForFrontend(session, progress, ref, rp, undefined, multi);
    builds.push(await convertRequest(req.frontend, dockerfile, excludePatterns, p, i === 0 ? recordingResolver(baseImages, resolver) : resolver, contexts, multi));
  }
  const converted = builds[0] as ConvertResult;
  // As BuildKit, only the first platform's conversion reports its checks; BUILDPLATFORM is this machine's.
  const warnings = runBuildChecks(req.frontend, dockerfile, excludePatterns, platform, baseImages, hooks, progress, hostPlatform());
  const merged = mergeDefinitions(builds.map((b) => b.definition));
  const denied = deniedEntitlement(merged.definition, exec);
  if (denied) throw locate(denied.error, denied.digest, merged.definition.metadata, dockerfile);
  const imports = await openCacheImports(env, req.cacheImports, progress, signal);
  // The cache-mount store opens a write transaction: only when a build has cache mounts to seed or export.
  const cacheMounts = () => exec.cacheMounts(env, isProcessAlive);
  for (const [id, seed] of cacheMountSeeds(env, imports.opened)) cacheMounts().remoteSeeds.set(id, seed);
  const records = new Map<string, BuildRecord>();
  const exportReq = exportRequest(req, buildTime);
  const prebuild = LayerPrebuild.forBuild(env, merged.definition, merged.roots, req.exports.outputs, exportReq.sourceDateEpoch, signal);
  const solver = definitionSolver(session, merged.definition, {
    importers: imports.importers,
    onResult: (key, v, results) => {
      prebuild?.onResult(v, results);
      const snapshots = results.flatMap((r) => (r.kind === "snapshot" ? [r.id] : []));
      if (snapshots.length === results.length) records.set(key, { key, name: v.meta.name ?? v.vertex.op.kind, snapshots });
    },
    explainMisses: req.solve.debugCache || req.config.debugCache,
    maxParallelism: req.solve.maxParallelism,
    noCache: req.solve.noCache,
    progress,
    signal,
  });
  // The stages an SBOM scans are solved with the build, each platform's after the platforms' roots.
  const scanned = builds.map((b) => stagesToScan(b.stages, req.exports.attest?.sbom));
  let roots: BuildRef[];
  let image: ExportOutcome = {};
  try {
    roots = await solver.solveAll([...merged.roots, ...scanned.flat().map((s) => s.root)]);
  } catch (e) {
    await prebuild?.[Symbol.asyncDispose]();
    throw locate(withSingleIdHint(cacheRootFailure(e, env.root), req.config.user), solver.failedVertex, merged.definition.metadata, dockerfile);
  } finally {
    session.close();
  }
  try {
    // The cache's layers are the ones this build's image outputs have (clamped only when one asked
    // for rewrite-timestamp), so a machine that imports them exports the same image.
    const rewrites = req.exports.outputs.some((o) => isImageOutput(o) && o.rewriteTimestamp);
    const cacheCtx = {
      records: [...records.values()],
      roots: roots.slice(0, platforms.length).map(snapshotIdOf),
      sourceDateEpoch: rewrites ? exportReq.sourceDateEpoch : undefined,
      imported: imports.caches,
      cacheMountDir: (id: string) => cacheMounts().latestDir(id),
    };
    const inlineCache = await inlineCacheEntries(env, req.cacheExports, req.exports.outputs, cacheCtx, progress, signal);
    const results: PlatformResult[] = [];
    const provenance: Array<{ platform: Platform; metadata: Record<string, unknown> | undefined }> = [];
    let solvedStage = platforms.length;
    for (const [i, p] of platforms.entries()) {
      const build = builds[i] as ConvertResult;
      const root = snapshotIdOf(roots[i] as BuildRef);
      const stages = (scanned[i] ?? []).map((s) => ({ name: s.name, ref: roots[solvedStage++] as BuildRef }));
      const attested = await makeAttestations({
        req, contextArg, definition: build.definition, sourceDigests: session.sourceDigests, dockerfile: { name: dockerfile.name, text: dockerfile.text }, startedOn: new Date(buildTime * 1000),
        root, snapshotter: env.snapshotter, sourceDateEpoch: exportReq.sourceDateEpoch, progress, signal, stages,
      });
      results.push({ root, imageConfig: build.image, platform: p, ...(attested.attestations ? { attestations: attested.attestations } : {}) });
      provenance.push({ platform: p, metadata: attested.provenanceMetadata });
    }
    const provenanceMetadata = provenanceKeys(provenance);
    image = await exportResult(env, { ...exportReq, warnings, ...(inlineCache ? { inlineCache } : {}), ...(provenanceMetadata ? { provenanceMetadata } : {}) }, results, progress, signal);
    await exportCaches(env, req.cacheExports, cacheCtx, progress, signal);
  } finally {
    await prebuild?.[Symbol.asyncDispose]();
    // Platforms whose graphs are the same share one result.
    for (const root of new Set(roots)) await root.release();
  }
  // While this build's leases still hold everything it used.
  await gcAfterBuild(env, req.config.gcKeepStorage, progress);
  const unused = builds.map((b) => new Set(b.unusedBuildArgs));
  return { unusedBuildArgs: converted.unusedBuildArgs.filter((a) => unused.every((u) => u.has(a))), image };
}

/** The request's Dockerfile as a graph and image config for `platform` (built on the same platform). */
export function convertRequest(
  frontend: FrontendAttrs,
  dockerfile: LoadedDockerfile,
  excludePatterns: string[],
  platform: Platform,
  resolveImage: ConvertOptions["resolveImage"],
  contexts?: NamedContexts,
  multiPlatform = false,
): Promise<ConvertResult> {
  checkSyntax(dockerfile.text, dockerfile.name, frontend.buildArgs);
  return convertDockerfile({
    source: dockerfile.text,
    filename: dockerfile.name,
    buildArgs: frontend.buildArgs,
    target: frontend.target,
    platform,
    // Builds run on this machine: BUILDPLATFORM is the host's whatever the target (kitbuild has one node).
    buildPlatform: multiPlatform || frontend.platforms ? hostPlatform() : platform,
    ...(multiPlatform ? { multiPlatform } : {}),
    ...(frontend.platforms ? { explicitPlatform: true } : {}),
    excludePatterns,
    noCacheStages: frontend.noCacheFilter,
    ...(frontend.forceNetwork ? { forceNetwork: frontend.forceNetwork } : {}),
    ...(frontend.extraHosts ? { extraHosts: frontend.extraHosts } : {}),
    ...(frontend.ulimits ? { ulimits: frontend.ulimits } : {}),
    ...(frontend.shmSize ? { shmSize: frontend.shmSize } : {}),
    ...(contexts ? { namedContexts: contexts } : {}),
    resolveImage,
  });
}

export /**
 * What the exporters need from the request. SOURCE_DATE_EPOCH comes from --build-arg or the
 * environment (buildx passes the environment's as a build arg).
 */
function exportRequest(req: BuildRequest, buildTime: number): ExportRequest {
  const epochText = req.frontend.buildArgs.SOURCE_DATE_EPOCH ?? req.env.SOURCE_DATE_EPOCH;
  const epoch = epochText !== undefined && /^\d+$/.test(epochText) ? Number(epochText) : undefined;
  return {
    ...req.exports, sourceDateEpoch: epoch, buildTime, stdout: req.stdout, env: req.env,
  };
}

type LoadedDockerfile = { text: string; path: string | undefined; name: string };

export function loadDockerfile(frontend: FrontendAttrs, contextDir: string): LoadedDockerfile {
  if (frontend.dockerfileText !== undefined) return { text: frontend.dockerfileText, path: undefined, name: "Dockerfile" };
  const path = frontend.dockerfilePath ? resolve(frontend.dockerfilePath) : `${contextDir}/Dockerfile`;
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

/** Resolves an image for the frontend as a progress step (named contexts give their own step name). */
export async function resolveForFrontend(session: BuildSession, progress: ProgressSink, text: string, platform: Platform, name?: string, prefixPlatform = false) {
  const ref = parseReference(text);
  const shown = formatReference(ref);
  const title = name ?? (prefixPlatform ? metadataStepName(platform, shown) : `[internal] load metadata for ${shown}`);
  return progressTask(progress, name ?? (prefixPlatform ? title : `metadata ${shown}`), title, async () => {
    const img = await session.resolveImage(ref, platform);
    return { ref: formatReference(img.ref), config: img.config };
  });
}


/** Points a step's failure at its Dockerfile lines. */
function locate(e: unknown, vertex: string | undefined, metadata: Record<string, import("../llb/ops.ts").OpMetadata>, dockerfile: LoadedDockerfile): unknown {
  if (!(e instanceof KitError) || !vertex) return e;
  const loc = metadata[vertex]?.location;
  const range = loc?.ranges[0];
  if (!loc || !range) return e;
  return e.withLocation({ file: loc.file, startLine: range.start, endLine: range.end, lines: dockerfile.text.split("\n") });
}
