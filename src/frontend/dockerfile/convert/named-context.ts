// Named contexts (--build-context NAME=…), as BuildKit's dockerui named contexts: a stage named
// NAME, a FROM NAME and a COPY --from=NAME / RUN --mount from=NAME read the named context instead
// of a stage or an image of that name. The caller (control) does the I/O (resolving an image,
// reading an OCI layout or a directory's .dockerignore); this file turns what it found into graph
// sources with BuildKit's step names ("[context NAME] …").
import { node, output, type Output } from "../../../llb/builder.ts";
import type { SourceOp } from "../../../llb/ops.ts";
import type { ImageConfig, Platform } from "../../../oci/types.ts";
import { copyActionFor } from "./copy-actions.ts";
import { baseImageConfig, isEmptyImage } from "./image-config.ts";
import { GitRefError, gitSourceOp, parseGitRef } from "./remote-source.ts";
import { withoutCredentials } from "../../../util/urls.ts";

/** What a named context turned out to be once loaded. */
export type LoadedContext =
  /** docker-image://REF: `ref` pinned to its digest; docker-image://scratch is "scratch". */
  | { kind: "image"; ref: string; config: ImageConfig }
  | { kind: "scratch" }
  /** A directory on this machine, seen through its own .dockerignore. */
  | { kind: "local"; dir: string; excludePatterns: string[] }
  | { kind: "git"; url: string }
  /** An http(s) URL that is not a git repository: one file named "context". */
  | { kind: "http"; url: string }
  /** oci-layout://DIR@DIGEST: `identifier` is the source the image's layers are read from. */
  | { kind: "oci-layout"; identifier: string; shownRef: string; config: ImageConfig };

export type NamedContexts = {
  /** The key of the named context `name` (a stage name or an image reference) stands for, if any. */
  find(name: string): string | undefined;
  /** Loads the context under `key` for a stage of `platform` (images resolved for it). */
  load(key: string, platform: Platform): Promise<LoadedContext>;
};

/** BuildKit never looks "scratch" or "context" up among the named contexts. */
export function findNamedContext(contexts: NamedContexts | undefined, name: string): string | undefined {
  const lower = name.toLowerCase();
  if (!contexts || lower === "scratch" || lower === "context") return undefined;
  return contexts.find(name);
}

export type ContextState = { output: Output | undefined; image: ImageConfig | undefined; platform: Platform | undefined };

/**
 * The filesystem and (for images) the config a loaded named context gives a stage. `readOnly`: the
 * state is only copied or mounted from (COPY --from, RUN --mount from=), never a stage's root.
 */
export function contextState(key: string, loaded: LoadedContext, platform: Platform, readOnly: boolean): ContextState {
  const named = (op: SourceOp, what: string) => output(node(op, [], { name: `[context ${key}] ${what}` }));
  switch (loaded.kind) {
    case "scratch":
      return { output: undefined, image: undefined, platform: undefined };
    case "image":
    case "oci-layout": {
      const image = baseImageConfig(loaded.config);
      const identifier = loaded.kind === "image" ? `docker-image://${loaded.ref}` : loaded.identifier;
      const shown = loaded.kind === "image" ? loaded.ref : "OCI load from client";
      const out = isEmptyImage(loaded.config) ? undefined : named({ kind: "source", identifier, attrs: {}, platform }, shown);
      return { output: out, image, platform: imagePlatform(loaded.config) ?? platform };
    }
    case "local": {
      const attrs: Record<string, string> = { dir: loaded.dir };
      if (loaded.excludePatterns.length > 0) attrs.excludepatterns = JSON.stringify(loaded.excludePatterns);
      // "context" and "dockerfile" are the main context's names in BuildKit: buildx prefixes "_".
      const id = key === "context" || key === "dockerfile" ? `_${key}` : key;
      const dir = named({ kind: "source", identifier: `local://${id}`, attrs }, "load from client");
      // Copies and mounts read the directory in place, keyed by exactly the files they read.
      if (readOnly) return { output: dir, image: undefined, platform: undefined };
      // The directory is read in place; a stage's filesystem must be a snapshot, so it is copied
      // into one (keyed by the checksum of what it holds), as BuildKit's transfer from the client.
      const copy = { ...copyActionFor("local", "/", { dest: "/", mode: undefined, owner: undefined, exclude: [] }, false), srcInput: 0 };
      const snapshot = output(node({ kind: "file", base: -1, actions: [copy] }, [dir], { name: `[context ${key}] copy into a snapshot` }));
      return { output: snapshot, image: undefined, platform: undefined };
    }
    case "git":
      return { output: gitContext(loaded.url), image: undefined, platform: undefined };
    case "http":
      return { output: named({ kind: "source", identifier: loaded.url, attrs: { filename: "context" } }, withoutCredentials(loaded.url)), image: undefined, platform: undefined };
  }
}

/** A git repository as BuildKit's DetectGitContext reads it (#ref:subdir and the query forms). */
function gitContext(url: string): Output {
  let g;
  try {
    g = parseGitRef(url);
  } catch (e) {
    if (e instanceof GitRefError) throw new Error(`invalid git context "${withoutCredentials(url)}": ${e.message}`);
    throw e;
  }
  if (!g) throw new Error(`invalid git context "${withoutCredentials(url)}"`);
  return output(node(gitSourceOp(g, g.keepGitDir), [], { name: `[internal] load git source ${withoutCredentials(url)}` }));
}


function imagePlatform(config: ImageConfig): Platform | undefined {
  if (!config.architecture || !config.os) return undefined;
  const p: Platform = { architecture: config.architecture, os: config.os };
  if (config.variant) p.variant = config.variant;
  return p;
}
