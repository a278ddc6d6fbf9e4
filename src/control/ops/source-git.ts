// Runs git sources (ADD <repository>): keyed by the commit the ref resolves to (plus the subdir and
// whether .git is kept), so a moved branch is fetched again and an unchanged one is a cache hit;
// the checkout is written into a fresh snapshot.
import { digestOf } from "../../llb/digest.ts";
import type { SourceOp } from "../../llb/ops.ts";
import type { ExecContext, OpRunner } from "../../solver/vertex.ts";
import { checkoutGit, parseGitSource, redact, type ResolvedGit, resolveGit } from "../../source/git.ts";
import { type BuildRef, snapshotRef } from "../refs.ts";
import type { BuildSession } from "../session.ts";

export function gitSourceRunner(session: BuildSession, op: SourceOp): OpRunner<BuildRef> {
  const src = parseGitSource(op);
  let resolved: Promise<ResolvedGit> | undefined;
  const resolveOnce = (ctx: ExecContext) => (resolved ??= resolveGit(src, ctx.signal));
  return {
    async cacheMap(ctx) {
      const r = await resolveOnce(ctx);
      ctx.progress.statusDone(`resolve ${redact(r.remote)}#${r.ref} to ${r.commit}`);
      return { digest: digestOf({ git: redact(r.remote), commit: r.commit, subdir: r.subdir, keepGitDir: r.keepGitDir }), deps: [], cacheable: true };
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
