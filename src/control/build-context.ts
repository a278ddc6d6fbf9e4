// The build's main context made local: a git repository, a URL or stdin is fetched into a temporary
// directory (source/remote-context.ts) and the request's frontend attributes are pointed at it, so
// everything after this reads a local context. `-f` then names a file inside the fetched context
// (relative to the git subdirectory), as buildx sends it for a remote context.
import { cleanInRoot } from "../fs/fs-safe.ts";
import { classifyContext, describeContext, fetchRemoteContext } from "../source/remote-context.ts";
import { type ProgressSink, progressTask } from "../util/progress.ts";
import type { FrontendAttrs } from "./request.ts";

export type PreparedContext = AsyncDisposable & { frontend: FrontendAttrs };

/** The attributes with a local context; disposing removes what was fetched (also after a failure). */
export async function prepareBuildContext(frontend: FrontendAttrs, progress: ProgressSink, signal: AbortSignal): Promise<PreparedContext> {
  const spec = classifyContext(frontend.contextDir);
  if (spec.kind === "local") return { frontend, async [Symbol.asyncDispose]() {} };
  const name = spec.kind === "git" ? `[internal] load git source ${describeContext(spec)}` : "[internal] load remote build context";
  const keepGitDir = /^(1|true)$/i.test(frontend.buildArgs.BUILDKIT_CONTEXT_KEEP_GIT_DIR ?? "");
  const fetched = await progressTask(progress, `context ${describeContext(spec)}`, name, (p) =>
    fetchRemoteContext(spec, { keepGitDir, stdin: frontend.contextStdin, progress: p, signal }),
  );
  const { contextStdin: _, ...rest } = frontend;
  const dockerfile =
    fetched.dockerfileText !== undefined
      ? { dockerfileText: fetched.dockerfileText, dockerfilePath: undefined }
      : frontend.dockerfilePath !== undefined
        ? { dockerfilePath: `${fetched.dir}${cleanInRoot(frontend.dockerfilePath)}` }
        : {};
  return {
    frontend: { ...rest, ...dockerfile, contextDir: fetched.dir },
    [Symbol.asyncDispose]: () => fetched[Symbol.asyncDispose](),
  };
}
