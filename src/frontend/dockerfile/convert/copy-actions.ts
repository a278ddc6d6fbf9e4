// The pieces of a COPY/ADD file op: the copy action each kind of source gets (context or stage
// path, URL, git repository, heredoc) with BuildKit's options, the sources for URLs, repositories
// and heredocs, and --chmod values (octal, or symbolic like "u+x,go-w").
import { node, output, type Output } from "../../../llb/builder.ts";
import type { ChownOpt, CopyAction, SourceOp } from "../../../llb/ops.ts";
import { KitError } from "../../../util/errors.ts";
import type { CopyCommand } from "../instructions/types.ts";
import { rootJoin } from "./paths.ts";
import { GitRefError, gitSourceOp, httpFilename, isHttpSource, parseGitRef } from "./remote-source.ts";

export type CopyOptions = {
  dest: string;
  mode: number | string | undefined;
  owner: ChownOpt | undefined;
  exclude: string[];
};

type SourceKind = "local" | "http" | "git" | "inline";

/** A copy action without its input; only context and stage paths follow symlinks and take wildcards. */
export function copyActionFor(kind: SourceKind, src: string, o: CopyOptions, unpack: boolean): Omit<CopyAction, "srcInput"> {
  const local = kind === "local";
  return {
    action: "copy",
    src,
    dest: o.dest,
    ...(o.owner ? { owner: o.owner } : {}),
    ...(o.mode !== undefined ? { mode: o.mode } : {}),
    followSymlinks: local,
    dirCopyContents: local,
    createDestPath: true,
    allowWildcard: local,
    allowEmptyWildcard: local,
    ...(unpack ? { attemptUnpack: true } : {}),
    ...(o.exclude.length > 0 ? { excludePatterns: [...o.exclude] } : {}),
  };
}

type Remote = { kind: "http" | "git"; path: string; output: Output; unpack: boolean };

/** The source of an ADD URL or git repository, or undefined for a context (or stage) path. */
export function remoteSource(src: string, c: CopyCommand, checksumFlag: string, name: string, isAdd: boolean): Remote | undefined {
  let git;
  try {
    git = parseGitRef(src);
  } catch (e) {
    if (e instanceof GitRefError) throw new Error(`invalid git source "${src}": ${e.message}`);
    throw e;
  }
  if (git) {
    if (!isAdd) throw new Error("source can't be a git ref for COPY");
    if (git.unsupportedQuery) {
      throw new KitError("E_DOCKERFILE_UNSUPPORTED", `the "${git.unsupportedQuery}" query of a git source is not supported by this version of kitbuild`, {
        hint: "drop the query from the source URL",
      });
    }
    if (c.keepGitDir !== undefined && git.keepGitDir !== undefined && c.keepGitDir !== git.keepGitDir) {
      throw new Error("inconsistent keep-git-dir configuration");
    }
    if (checksumFlag !== "" && git.checksum !== "" && checksumFlag !== git.checksum) {
      throw new Error(`checksum mismatch "${checksumFlag}" != "${git.checksum}"`);
    }
    const op = gitSourceOp(git, git.keepGitDir ?? c.keepGitDir, git.checksum || checksumFlag);
    return { kind: "git", path: "/", output: output(node(op, [], { name })), unpack: false };
  }
  if (!isHttpSource(src)) return undefined;
  if (!isAdd) throw new Error("source can't be a URL for COPY");
  const filename = httpFilename(src);
  const attrs: Record<string, string> = { filename };
  if (checksumFlag !== "") attrs.checksum = checkDigest(checksumFlag);
  const op: SourceOp = { kind: "source", identifier: src, attrs };
  // Downloads are not unpacked unless ADD --unpack says so.
  return { kind: "http", path: `/${filename}`, output: output(node(op, [], { name })), unpack: c.unpack ?? false };
}

const DIGEST_LENGTHS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

function checkDigest(d: string): string {
  const colon = d.indexOf(":");
  const algo = colon < 0 ? "" : d.slice(0, colon);
  const hex = d.slice(colon + 1);
  if (colon < 0) throw new Error("invalid checksum digest format");
  if (DIGEST_LENGTHS[algo] === undefined) throw new Error("unsupported digest algorithm");
  if (!/^[a-f0-9]*$/.test(hex) || hex.length !== DIGEST_LENGTHS[algo]) throw new Error("invalid checksum digest length");
  return d;
}

/** A heredoc's content as a file in a scratch filesystem of its own. */
export function heredocSource(name: string, data: string): { path: string; output: Output } {
  const path = rootJoin(name);
  const op = { kind: "file" as const, base: -1, actions: [{ action: "mkfile" as const, path, mode: 0o644, data }] };
  return { path, output: output(node(op, [], { name: "[internal] preparing inline document" })) };
}

/** An octal mode (up to 07777) as a number, or a valid symbolic mode as written. */
export function parseChmod(spec: string): number | string {
  const hint = "use an octal mode like 0755 or a symbolic one like u+x,go-w";
  const invalid = () => new KitError("E_DOCKERFILE_INVALID", `invalid chmod parameter: '${spec}'. it should be octal string and between 0 and 07777`, { hint });
  if (/^\d/.test(spec)) {
    if (!/^[0-7]+$/.test(spec)) throw invalid();
    const mode = Number.parseInt(spec, 8);
    if (mode > 0o7777) throw invalid();
    return mode;
  }
  if (!SYMBOLIC.test(spec)) throw new KitError("E_DOCKERFILE_INVALID", `invalid chmod parameter: '${spec}'`, { hint });
  return spec;
}

/** chmod(1)'s symbolic modes: clauses like "u+x", "go-w", "a=rX", "u=g", separated by commas. */
const SYMBOLIC = /^[ugoa]*(?:[-+=][rwxXstugo]*)+(?:,[ugoa]*(?:[-+=][rwxXstugo]*)+)*$/;
