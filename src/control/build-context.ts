// The build's main context made local: a git repository, a URL or stdin is fetched into a temporary
// directory (source/remote-context.ts) and the request's frontend attributes are pointed at it, so
// everything after this reads a local context. A relative `-f` then names a file inside the fetched
// context (relative to the git subdirectory), an absolute one a file here, as buildx sends them.
import { isAbsolute } from "node:path";
import { cleanInRoot } from "../fs/fs-safe.ts";
import { GitRefError, parseGitRef, gitSourceOp } from "../frontend/dockerfile/convert/remote-source.ts";
import type { SourceOp } from "../llb/ops.ts";
import { gitSshEnv, isSshRemote } from "../source/git-ssh.ts";
import { classifyContext, describeContext, fetchRemoteContext, type GitContext, type RemoteContext } from "../source/remote-context.ts";
import { KitError } from "../util/errors.ts";
import { type ProgressSink, progressTask } from "../util/progress.ts";
import type { HelperTracker } from "../worker/executor.ts";
import type { SshAgents } from "../worker/session/ssh-agents.ts";
import type { FrontendAttrs } from "./request.ts";
import { withoutCredentials } from "../util/urls.ts";

export type PreparedContext = AsyncDisposable & { frontend: FrontendAttrs };

/** The attributes with a local context; disposing removes what was fetched (also after a failure). */
export async function prepareBuildContext(frontend: FrontendAttrs, ssh: SshAgents, progress: ProgressSink, signal: AbortSignal): Promise<PreparedContext> {
  const spec = classifyContext(frontend.contextDir);
  if (spec.kind === "local") return { frontend, async [Symbol.asyncDispose]() {} };
  const shown = describeContext(spec);
  const name = spec.kind === "git" ? `[internal] load git source ${shown}` : "[internal] load remote build context";
  const fetched = await progressTask(progress, `context ${shown}`, name, async (p) => {
    const git = spec.kind === "git" ? await gitContext(spec.remote, frontend.buildArgs, ssh, signal) : undefined;
    return fetchRemoteContext(spec, { git, stdin: frontend.contextStdin, progress: p, signal });
  });
  if (fetched.dockerfileText !== undefined && spec.kind === "stdin" && frontend.dockerfilePath !== undefined) {
    await fetched[Symbol.asyncDispose]();
    throw new KitError("E_USAGE", "ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles", {
      hint: "pipe a tar archive of the context to use -f, or drop -f to build the Dockerfile on stdin",
    });
  }
  const { contextStdin: _, ...rest } = frontend;
  return {
    frontend: { ...rest, ...dockerfileAttrs(frontend, fetched), contextDir: fetched.dir },
    [Symbol.asyncDispose]: () => fetched[Symbol.asyncDispose](),
  };
}

/**
 * Where the Dockerfile comes from with a remote context, as buildx and BuildKit decide: the fetched
 * one when the source was a Dockerfile (-f is then ignored for a URL, as BuildKit does); an absolute
 * -f is a file on this machine; a relative -f is inside the fetched context (relative to the git
 * subdirectory).
 */
function dockerfileAttrs(frontend: FrontendAttrs, fetched: RemoteContext): Partial<FrontendAttrs> {
  if (fetched.dockerfileText !== undefined) return { dockerfileText: fetched.dockerfileText, dockerfilePath: undefined };
  if (fetched.dockerfilePath !== undefined) return { dockerfileText: undefined, dockerfilePath: fetched.dockerfilePath };
  const path = frontend.dockerfilePath;
  if (path === undefined || isAbsolute(path)) return {};
  return { dockerfilePath: `${fetched.dir}${cleanInRoot(path)}` };
}

/**
 * The git source a context address names, as BuildKit's dockerui reads it: `#ref:subdir` and the
 * query forms (?ref=, ?tag=, ?branch=, ?subdir=, ?checksum=, ?keep-git-dir=, ?submodules=), .git
 * kept also with BUILDKIT_CONTEXT_KEEP_GIT_DIR; an ssh address uses the --ssh agent "default".
 */
async function gitContext(remote: string, buildArgs: Record<string, string>, ssh: SshAgents, signal: AbortSignal): Promise<GitContext> {
  const op = gitContextOp(remote, /^(1|t|true)$/i.test(buildArgs.BUILDKIT_CONTEXT_KEEP_GIT_DIR ?? ""));
  const bare = op.identifier.replace(/^git\+/, "").split("#")[0] as string;
  if (!isSshRemote(bare)) return { op };
  if (!ssh.has("default")) {
    throw new KitError("E_CONTEXT_GIT", `no SSH key "default" forwarded from the client for ${withoutCredentials(bare)}`, {
      hint: "pass --ssh default (your agent, SSH_AUTH_SOCK) or --ssh default=KEYFILE",
    });
  }
  return { op, env: gitSshEnv(await ssh.socketFor("default", signal, NO_TRACKING)) };
}

// git runs on the host, not in a step's container: an agent started for key files is stopped with
// the build's ExecServices, not by a step's watchdog.
const NO_TRACKING: HelperTracker = { started() {}, ended() {}, tempDir() {} };

function gitContextOp(remote: string, keepGitDirArg: boolean): SourceOp {
  // github.com/org/repo (buildx's deprecated form) is https and needs no .git suffix.
  if (remote.startsWith("github.com/")) {
    return { kind: "source", identifier: `git+https://${remote}`, attrs: keepGitDirArg ? { keepgitdir: "true" } : {} };
  }
  let g;
  try {
    g = parseGitRef(remote);
  } catch (e) {
    if (e instanceof GitRefError) throw new KitError("E_CONTEXT_GIT", `invalid git context "${withoutCredentials(remote)}": ${e.message}`, { hint: "check the query after ? in the repository address" });
    throw e;
  }
  if (!g) throw new KitError("E_CONTEXT_GIT", `"${withoutCredentials(remote)}" is not a git repository address`, { hint: "an http(s) repository address ends in .git" });
  if (g.unsupportedQuery) {
    throw new KitError("E_CONTEXT_GIT", `the "${g.unsupportedQuery}" query of a git context is not supported by this version of kitbuild`, { hint: "drop the query from the address" });
  }
  return gitSourceOp(g, g.keepGitDir || keepGitDirArg);
}
