// --build-context NAME=VALUE, as buildx reads it and BuildKit's dockerui loads it: NAME is an image
// reference's familiar form ("alpine", "alpine:3.20", "ghcr.io/org/app"; ":latest" dropped), so
// `FROM alpine` and `--build-context alpine=…` meet; VALUE is a git or http(s) URL, docker-image://REF,
// oci-layout://DIR[:TAG][@DIGEST], or else a local directory. This file classifies the values and,
// for the frontend, loads one when a stage needs it (images resolved, layouts read, a directory's
// own .dockerignore parsed).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { ImageMeta } from "../frontend/dockerfile/convert/convert.ts";
import type { LoadedContext, NamedContexts } from "../frontend/dockerfile/convert/named-context.ts";
import { parseGitRef } from "../frontend/dockerfile/convert/remote-source.ts";
import { parseDockerignore } from "../frontend/dockerfile/dockerignore.ts";
import type { Platform } from "../oci/types.ts";
import { parseReference, type Reference } from "../registry/reference.ts";
import { checkContextDir } from "../source/local.ts";
import { errnoCode, KitError } from "../util/errors.ts";
import { parseOciLayoutValue, resolveOciLayout } from "./oci-layout-context.ts";

export type NamedContextSpec =
  | { kind: "local"; dir: string }
  | { kind: "image"; ref: string }
  | { kind: "oci-layout"; dir: string; tag: string | undefined; digest: string | undefined }
  | { kind: "git"; url: string }
  | { kind: "http"; url: string };

/** The name under which a context is kept and looked up; undefined for a name that is no reference. */
export function contextKey(name: string): string | undefined {
  let ref: Reference;
  try {
    ref = parseReference(name);
  } catch {
    return undefined;
  }
  let familiar = ref.domain === "docker.io" ? ref.path.replace(/^library\/(?=[^/]+$)/, "") : `${ref.domain}/${ref.path}`;
  if (ref.tag) familiar += `:${ref.tag}`;
  if (ref.digest) familiar += `@${ref.digest}`;
  return familiar.endsWith(":latest") ? familiar.slice(0, -":latest".length) : familiar;
}

const usage = (message: string, hint: string) => new KitError("E_USAGE", message, { hint });

/** Each --build-context NAME=VALUE by its key (a later one for the same name wins, as buildx's map). */
export function parseBuildContexts(values: readonly string[]): Record<string, NamedContextSpec> {
  const out: Record<string, NamedContextSpec> = {};
  for (const value of values) {
    if (value === "") continue;
    const eq = value.indexOf("=");
    if (eq < 0) throw usage(`invalid context value: ${value}, expected key=value`, "write it as --build-context NAME=DIR|docker-image://REF|oci-layout://DIR|URL");
    const name = value.slice(0, eq);
    const key = contextKey(name);
    if (key === undefined) throw usage(`invalid context name "${name}"`, "a context name is written as an image name: lowercase letters, digits and separators, e.g. base or alpine:3.20");
    out[key] = classify(value.slice(eq + 1));
  }
  return out;
}

function classify(v: string): NamedContextSpec {
  if (v.startsWith("docker-image://")) return { kind: "image", ref: v.slice("docker-image://".length) };
  if (v.startsWith("oci-layout://")) return { kind: "oci-layout", ...parseOciLayoutValue(v) };
  let git = false;
  try {
    git = parseGitRef(v) !== undefined;
  } catch {
    git = true; // a git URL with a bad query: the frontend says what is wrong with it
  }
  if (git) return { kind: "git", url: v };
  if (v.startsWith("http://") || v.startsWith("https://")) return { kind: "http", url: v };
  return { kind: "local", dir: resolve(v) };
}

export type ContextLoaderDeps = {
  /** Resolves an image for a named context, shown as `name` in the progress output. */
  resolveImage(ref: string, platform: Platform, name: string): Promise<ImageMeta>;
  signal: AbortSignal;
};

/**
 * The frontend's view of the named contexts. Local directories are checked up front (buildx
 * refuses a missing one before it builds), whether or not a stage reads them.
 */
export function namedContexts(specs: Record<string, NamedContextSpec>, deps: ContextLoaderDeps): NamedContexts | undefined {
  const keys = Object.keys(specs);
  if (keys.length === 0) return undefined;
  for (const spec of Object.values(specs)) if (spec.kind === "local") checkContextDir(spec.dir);
  return {
    find: (name) => {
      const key = contextKey(name);
      return key !== undefined && specs[key] !== undefined ? key : undefined;
    },
    load: (key, platform) => load(key, specs[key] as NamedContextSpec, platform, deps),
  };
}

async function load(key: string, spec: NamedContextSpec, platform: Platform, deps: ContextLoaderDeps): Promise<LoadedContext> {
  switch (spec.kind) {
    case "local":
      return { kind: "local", dir: spec.dir, excludePatterns: ownDockerignore(spec.dir) };
    case "git":
      checkGitScheme(key, spec.url);
      return spec;
    case "http":
      return spec;
    case "image": {
      if (spec.ref === "scratch") return { kind: "scratch" };
      const img = await deps.resolveImage(spec.ref, platform, `[context ${key}] load metadata for ${spec.ref}`);
      return { kind: "image", ref: img.ref, config: img.config };
    }
    case "oci-layout": {
      const found = resolveOciLayout(spec, platform);
      return { kind: "oci-layout", identifier: found.identifier, shownRef: `${key}@${found.manifestDigest}`, config: found.config };
    }
  }
}

/**
 * BuildKit's named contexts take git repositories only as git@host:path, git://… or http(s)://…
 * (buildx passes any git address on; BuildKit then refuses the others when the context is used).
 */
function checkGitScheme(key: string, url: string): void {
  if (/^(git@|git:\/\/|https?:\/\/)/.test(url)) return;
  const scheme = url.slice(0, url.indexOf(":"));
  throw new KitError("E_DOCKERFILE_NAMED_CONTEXT", `unsupported context source ${scheme} for ${key}`, {
    hint: "as in BuildKit, a git named context is written git@host:path, git://… or https://…; user@host:path forms other than git@ and ssh:// are not taken",
  });
}

/** A local named context is read through the .dockerignore at its own root (BuildKit's dockerui). */
function ownDockerignore(dir: string): string[] {
  try {
    return parseDockerignore(readFileSync(`${dir}/.dockerignore`, "utf8"));
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return [];
    throw new KitError("E_CONTEXT_IGNORE", `cannot read "${dir}/.dockerignore"`, { cause: e });
  }
}
