import type { SourceOp } from "../../../llb/ops.ts";
// ADD's remote sources told apart from context paths as BuildKit does: git repositories
// ("https://host/repo.git#ref:subdir", "git@host:repo.git", "git://…", "ssh://…", with ?ref=,
// ?tag=, ?branch=, ?subdir=, ?checksum=, ?keep-git-dir=, ?submodules= queries) and HTTP(S) URLs.

export type GitRef = {
  /** The repository as git clones it, without fragment and query. */
  remote: string;
  /** "https", "http", "ssh" (also for user@host:path) or "git". */
  scheme: string;
  ref: string;
  subdir: string;
  checksum: string;
  keepGitDir: boolean | undefined;
  /** ?submodules=: BuildKit checks submodules out unless this is false. */
  submodules: boolean | undefined;
  /** A query BuildKit understands that kitbuild's git source does not take yet. */
  unsupportedQuery: string | undefined;
};

export class GitRefError extends Error {
  override name = "GitRefError";
}

const PROTOCOLS = new Set(["http", "https", "ssh", "git"]);
const URL_RE = /^([a-zA-Z0-9]+):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/;
const SCP_RE = /^([a-zA-Z0-9-_]+)@([a-zA-Z0-9-.]+):(.*?)(?:\?(.*?))?(?:#(.*))?$/;

/**
 * The git repository a source names, or undefined for anything else (a context path, an HTTP URL
 * that does not end in .git). Throws GitRefError for a git source with a bad query.
 */
export function parseGitRef(src: string): GitRef | undefined {
  if (src.startsWith("./") || src.startsWith("../") || src.startsWith("github.com/")) return undefined;
  let scheme: string;
  let remote: string;
  let query: string | undefined;
  let fragment: string | undefined;
  const url = URL_RE.exec(src);
  if (url) {
    scheme = (url[1] as string).toLowerCase();
    if (!PROTOCOLS.has(scheme)) return undefined;
    const path = url[3] as string;
    if ((scheme === "http" || scheme === "https") && !path.endsWith(".git")) return undefined;
    remote = `${url[1]}://${url[2]}${path}`;
    [query, fragment] = [url[4], url[5]];
  } else {
    const scp = SCP_RE.exec(src);
    if (!scp) return undefined;
    scheme = "ssh";
    remote = `${scp[1]}@${scp[2]}:${scp[3]}`;
    [query, fragment] = [scp[4], scp[5]];
  }
  const g: GitRef = { remote, scheme, ref: "", subdir: "", checksum: "", keepGitDir: undefined, submodules: undefined, unsupportedQuery: undefined };
  if (fragment) {
    const colon = fragment.indexOf(":");
    g.ref = colon < 0 ? fragment : fragment.slice(0, colon);
    g.subdir = colon < 0 ? "" : cleanSubdir(fragment.slice(colon + 1));
  }
  if (query) applyQuery(g, query);
  return g;
}

function cleanSubdir(p: string): string {
  const parts: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/");
}

function applyQuery(g: GitRef, query: string): void {
  const values = new Map<string, string[]>();
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const decode = (s: string) => decodeURIComponent(s.replaceAll("+", " "));
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    values.set(key, [...(values.get(key) ?? []), decode(eq < 0 ? "" : pair.slice(eq + 1))]);
  }
  let tag = "";
  let branch = "";
  for (const [key, vs] of values) {
    if (vs.length > 1) throw new GitRefError(`query "${key}" has multiple values`);
    const v = vs[0] as string;
    const flag = ["submodules", "keep-git-dir", "fetch-by-commit"].includes(key);
    if (v === "" && !flag) throw new GitRefError(`query "${key}" has no value`);
    if (key === "ref") setRef(g, v);
    else if (key === "tag") tag = v;
    else if (key === "branch") branch = v;
    else if (key === "subdir") {
      if (g.subdir !== "" && g.subdir !== v) throw new GitRefError(`subdir conflicts: "${g.subdir}" vs "${v}"`);
      g.subdir = v;
    } else if (key === "checksum" || key === "commit") g.checksum = v;
    else if (key === "keep-git-dir") g.keepGitDir = parseQueryBool(key, v);
    else if (key === "submodules") g.submodules = parseQueryBool(key, v);
    else if (key === "mtime" || key === "fetch-by-commit") g.unsupportedQuery = key;
    else throw new GitRefError(`unexpected query "${key}"`);
  }
  if (tag !== "") setRef(g, tag.startsWith("refs/tags/") ? tag : `refs/tags/${tag}`);
  if (branch !== "") {
    if (tag !== "") throw new GitRefError("branch conflicts with tag");
    setRef(g, branch.startsWith("refs/heads/") ? branch : `refs/heads/${branch}`);
  }
}

function setRef(g: GitRef, ref: string): void {
  if (g.ref !== "" && g.ref !== ref) throw new GitRefError(`ref conflicts: "${g.ref}" vs "${ref}"`);
  g.ref = ref;
}

function parseQueryBool(key: string, v: string): boolean {
  if (v === "") return true;
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  throw new GitRefError(`invalid ${key} value: "${v}"`);
}

/** An http(s) URL that is not a git repository. */
export function isHttpSource(src: string): boolean {
  if (!src.startsWith("http://") && !src.startsWith("https://")) return false;
  try {
    return parseGitRef(src) === undefined;
  } catch {
    return false;
  }
}

/** The file name an ADD of a URL writes: the URL path's last element, else "__unnamed__". */
export function httpFilename(src: string): string {
  const path = URL_RE.exec(src)?.[3] ?? "";
  let base = path.replace(/\/+$/, "").split("/").at(-1) ?? "";
  try {
    base = decodeURIComponent(base);
  } catch {
    // An undecodable path keeps its escapes.
  }
  return base === "" || base === "." ? "__unnamed__" : base;
}

/** The identifier of a git source in the graph: "git://…" for the git protocol, else "git+" and the remote. */
export function gitIdentifier(g: GitRef): string {
  return g.scheme === "git" ? g.remote : `git+${g.remote}`;
}

/**
 * The source op of a git address: its ref, subdir, checksum and submodules as attrs, and
 * keep-git-dir as the caller decided it (the address's own query, a flag or a build arg).
 */
export function gitSourceOp(g: GitRef, keepGitDir: boolean | undefined, checksum = g.checksum): SourceOp {
  const attrs: Record<string, string> = {};
  if (g.ref) attrs.ref = g.ref;
  if (g.subdir) attrs.subdir = g.subdir;
  if (keepGitDir) attrs.keepgitdir = "true";
  if (checksum) attrs.checksum = checksum;
  if (g.submodules === false) attrs["git.skipsubmodules"] = "true";
  return { kind: "source", identifier: gitIdentifier(g), attrs };
}
