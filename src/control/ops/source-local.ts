// Runs local:// sources: the build context, read in place through its .dockerignore. It is never
// cached itself; the steps that read it are keyed by checksums of exactly the files they read.
// Nothing is transferred, but what BuildKit's transfer does is done here: the paths the build reads
// (followpaths) are checksummed through the build's hash memo, and "transferring context: N" is
// the bytes of the files that had to be read (the ones not memoized since the last build), so a
// no-op rebuild shows 0B. The steps' own checksums then find every file in the memo.
import { digestOf } from "../../llb/digest.ts";
import { checksumSources } from "../../file/checksum.ts";
import { formatBytes } from "../../util/units.ts";
import type { LocalContext } from "../../source/local.ts";
import { contextTree } from "./file.ts";
import type { SourceOp } from "../../llb/ops.ts";
import type { OpRunner } from "../../solver/vertex.ts";
import { openLocalContext } from "../../source/local.ts";
import { type BuildRef, contextRef } from "../refs.ts";
import type { BuildSession } from "../session.ts";

export function localSourceRunner(session: BuildSession, op: SourceOp): OpRunner<BuildRef> {
  const excludes = op.attrs.excludepatterns ? (JSON.parse(op.attrs.excludepatterns) as string[]) : [];
  return {
    async cacheMap() {
      return { digest: digestOf({ op, session: session.id }), deps: [], cacheable: false };
    },
    async exec(_inputs, ctx) {
      // A named context (--build-context NAME=DIR) carries its directory; the build context is the session's.
      const context = openLocalContext(op.attrs.dir ?? session.contextDir, excludes);
      // A named directory without followpaths may be read only in part (COPY --from=NAME): checksumming
      // all of it up front could cost more than the build, so only the main context says its size.
      if (op.attrs.dir === undefined || op.attrs.followpaths) {
        const follow = op.attrs.followpaths ? (JSON.parse(op.attrs.followpaths) as string[]) : [""];
        const read = await hashFollowPaths(context, follow, session, ctx.signal);
        // BuildKit names the transfer by the context's session name ("context", or a named context's).
        ctx.progress.statusDone(`transferring ${op.identifier.slice("local://".length)}: ${formatBytes(read)}`);
      }
      return [contextRef(context)];
    },
  };
}

/** Checksums the paths the build reads into the build's memo; returns the bytes of the files read. */
async function hashFollowPaths(context: LocalContext, paths: readonly string[], session: BuildSession, signal: AbortSignal): Promise<number> {
  let read = 0;
  const tree = { ...contextTree(context, session), onRead: (bytes: number) => void (read += bytes) };
  for (const path of paths) {
    try {
      await checksumSources(tree, `/${path}`, { followSymlinks: false, allowWildcard: true }, signal);
    } catch (e) {
      // A path that is missing or unreadable fails the step that reads it, with that step's location.
      if (signal.aborted) throw e;
    }
  }
  return read;
}
