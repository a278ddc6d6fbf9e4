// Runs git sources (ADD <repository>, git named contexts): keyed by the commit the ref resolves to
// (plus the subdir, whether .git is kept and whether submodules are skipped), so a moved branch is
// fetched again and an unchanged one is a cache hit; the checkout is written into a fresh snapshot.
// An ssh remote uses the build's ssh agent (--ssh; "default" unless the op names another id).
import { digestOf } from "../../llb/digest.ts";
import type { SourceOp } from "../../llb/ops.ts";
import type { ExecContext, OpRunner } from "../../solver/vertex.ts";
import { checkoutGit, type GitSource, parseGitSource, type ResolvedGit, resolveGit } from "../../source/git.ts";
import { gitSshEnv, isSshRemote } from "../../source/git-ssh.ts";
import { KitError } from "../../util/errors.ts";
import type { HelperTracker } from "../../worker/executor.ts";
import { type BuildRef, snapshotRef } from "../refs.ts";
import { sourceKey } from "../provenance-sources.ts";
import type { BuildSession } from "../session.ts";
import { withoutCredentials } from "../../util/urls.ts";

export function gitSourceRunner(session: BuildSession, op: SourceOp): OpRunner<BuildRef> {
  const src = parseGitSource(op);
  let resolved: Promise<ResolvedGit> | undefined;
  const resolveOnce = (ctx: ExecContext) => (resolved ??= withSsh(session, op, src, ctx.signal).then((s) => resolveGit(s, ctx.signal)));
  return {
    async cacheMap(ctx) {
      const r = await resolveOnce(ctx);
      ctx.progress.statusDone(`resolve ${withoutCredentials(r.remote)}#${r.ref} to ${r.commit}`);
      session.sourceDigests.set(sourceKey(op), `sha1:${r.commit}`);
      const key = { git: withoutCredentials(r.remote), commit: r.commit, subdir: r.subdir, keepGitDir: r.keepGitDir };
      return { digest: digestOf(r.skipSubmodules ? { ...key, skipSubmodules: true } : key), deps: [], cacheable: true };
    },
    async exec(_inputs, ctx) {
      const r = await resolveOnce(ctx);
      await using active = await session.env.snapshotter.prepare(null, "git");
      {
        await using target = await active.mount();
        await checkoutGit(r, target.path, ctx.signal);
      }
      ctx.progress.statusDone(`checkout ${r.commit}`);
      return [snapshotRef(await active.commit())];
    },
  };
}

// git runs on the host, outside any step's container, so an agent started for key files is
// stopped with the build's session (not by a step's watchdog).
const NO_TRACKING: HelperTracker = { started() {}, ended() {}, tempDir() {} };

/** For an ssh remote, the source with the agent of the op's ssh id (BuildKit: "no SSH key … forwarded"). */
async function withSsh(session: BuildSession, op: SourceOp, src: GitSource, signal: AbortSignal): Promise<GitSource> {
  if (!isSshRemote(src.remote)) return src;
  const id = op.attrs["git.mountsshsock"] || "default";
  if (!session.exec.ssh.has(id)) {
    throw new KitError("E_SOURCE_GIT", `no SSH key "${id}" forwarded from the client for ${withoutCredentials(src.remote)}`, {
      hint: `pass --ssh ${id} (your agent, SSH_AUTH_SOCK) or --ssh ${id}=KEYFILE`,
    });
  }
  return { ...src, env: gitSshEnv(await session.exec.ssh.socketFor(id, signal, NO_TRACKING)) };
}
