// Build contexts that are not a directory here: a git repository, a URL (a tarball, or a plain
// Dockerfile), or stdin (a tar archive, or a plain Dockerfile). Each is fetched into a temporary
// directory that the build then reads as its local context (with its .dockerignore and Dockerfile),
// so its steps are keyed by the checksums of the files they read, as any local context's are: the
// same commit or the same tarball again is a cache hit, a changed one is seen. The caller owns the
// returned context and must dispose of it (the directory is removed then, also after a failure).
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { extractArchive, sniffTarArchive } from "../archive/archive.ts";
import type { Compression } from "../archive/decompress.ts";
import type { SourceOp } from "../llb/ops.ts";
import { KitError } from "../util/errors.ts";
import type { VertexProgress } from "../util/progress.ts";
import { checkoutGit, parseGitSource, resolveGit } from "./git.ts";
import { downloadToFile } from "./remote-context-download.ts";
import { withoutCredentials } from "../util/urls.ts";

/** What the positional PATH | URL | - names, classified as buildx does (an existing directory first). */
export type ContextSpec =
  | { kind: "local"; dir: string }
  | { kind: "stdin" }
  | { kind: "git"; remote: string }
  | { kind: "url"; url: string };

/**
 * A fetched context: the directory to read, and the Dockerfile when the source was one: its text
 * (stdin), or the file in the context that holds it (a URL, BuildKit's file named "context").
 */
export type RemoteContext = AsyncDisposable & { dir: string; dockerfileText: string | undefined; dockerfilePath?: string };

/** A git context's source op (ref, subdir, keepgitdir, … as ADD's) and git's extra environment (ssh). */
export type GitContext = { op: SourceOp; env?: Record<string, string> };

export type FetchOptions = {
  /** For a git context: what to fetch. */
  git?: GitContext;
  /** The bytes of stdin, for `-`. */
  stdin?: AsyncIterable<Uint8Array>;
  progress: VertexProgress;
  signal: AbortSignal;
};

/**
 * Follows moby's urlutil as buildx uses it: `-` is stdin; an existing directory is local; `git://`,
 * `git@`, `ssh://`, `github.com/` and http(s) URLs whose path ends in `.git` (before `?` or `#`) are git;
 * any other http(s) URL is a remote tarball or Dockerfile; anything else is a local path.
 */
export function classifyContext(arg: string): ContextSpec {
  if (arg === "-") return { kind: "stdin" };
  if (isDirectory(arg)) return { kind: "local", dir: arg };
  if (/^(git:\/\/|git@|ssh:\/\/|github\.com\/)/.test(arg) || /^https?:\/\/[^?#]*\.git([?#].*)?$/.test(arg)) return { kind: "git", remote: arg };
  if (/^https?:\/\//.test(arg)) return { kind: "url", url: arg };
  return { kind: "local", dir: arg };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** How a context is named in messages and progress, without credentials. */
export function describeContext(spec: ContextSpec): string {
  switch (spec.kind) {
    case "local":
      return spec.dir;
    case "stdin":
      return "stdin";
    case "git":
      return withoutCredentials(spec.remote);
    case "url":
      return withoutCredentials(spec.url);
  }
}

/** Fetches a git, URL or stdin context into a new temporary directory. */
export async function fetchRemoteContext(spec: Exclude<ContextSpec, { kind: "local" }>, opts: FetchOptions): Promise<RemoteContext> {
  const tmp = mkdtempSync(`${tmpdir()}/kitbuild-context-`);
  const context: RemoteContext = {
    dir: `${tmp}/context`,
    dockerfileText: undefined,
    async [Symbol.asyncDispose]() {
      rmSync(tmp, { recursive: true, force: true });
    },
  };
  try {
    mkdirSync(context.dir);
    if (spec.kind === "git") {
      if (!opts.git) throw new KitError("E_INTERNAL", "a git context needs its source op");
      await fetchGit(opts.git, context.dir, opts);
    } else {
      const file = `${tmp}/download`;
      const what = spec.kind === "url" ? withoutCredentials(spec.url) : "stdin";
      const digest = await downloadToFile(spec.kind === "url" ? { url: spec.url } : { stream: opts.stdin ?? emptyStream() }, file, opts.progress, opts.signal);
      opts.progress.statusDone(`${what} ${digest}`);
      if (!(await unpackArchive(file, context.dir, what, opts.signal))) Object.assign(context, dockerfileOnly(spec.kind, file, context.dir));
    }
    return context;
  } catch (e) {
    await context[Symbol.asyncDispose]();
    throw e;
  }
}

async function* emptyStream(): AsyncIterable<Uint8Array> {}

/** The repository's commit checked out (shallow), the subdirectory as the root, as BuildKit's git source does. */
async function fetchGit(git: GitContext, dir: string, opts: FetchOptions): Promise<void> {
  const src = { ...parseGitSource(git.op), ...(git.env ? { env: git.env } : {}) };
  const resolved = await resolveGit(src, opts.signal);
  opts.progress.statusDone(`resolve ${withoutCredentials(src.remote)}#${src.ref} to ${resolved.commit}`);
  await checkoutGit(resolved, dir, opts.signal);
}

/**
 * Something that is not an archive is the Dockerfile. From stdin (buildx) the context is empty; from
 * a URL (BuildKit's dockerui) the context is the downloaded file, named "context" with the http
 * source's mode 0600, and that file is the Dockerfile.
 */
function dockerfileOnly(kind: "url" | "stdin", file: string, dir: string): Partial<RemoteContext> {
  if (kind === "stdin") return { dockerfileText: readFileSync(file, "utf8") };
  renameSync(file, `${dir}/context`);
  chmodSync(`${dir}/context`, 0o600);
  return { dockerfilePath: `${dir}/context` };
}

/**
 * Unpacks `file` into `dir` when it is a tar archive (plain or compressed, recognized by its content
 * as buildx does for stdin and BuildKit for URLs); false when it is not one.
 */
async function unpackArchive(file: string, dir: string, what: string, signal: AbortSignal): Promise<boolean> {
  const compression: Compression | undefined = await sniffTarArchive(file, signal);
  if (compression === undefined) return false;
  try {
    await extractArchive(file, compression, dir, { whiteouts: false, preserveOwner: false, absoluteNames: "strip", what: `the build context from ${what}`, signal });
  } catch (e) {
    if (e instanceof KitError) throw e;
    throw new KitError("E_CONTEXT_ARCHIVE", `cannot unpack the build context from ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return true;
}
