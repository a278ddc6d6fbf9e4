// Runs http(s):// sources (ADD <url>): keyed by the --checksum when one is given (nothing is
// downloaded for a cache hit), else by the downloaded content, its name, mode and Last-Modified
// time, as BuildKit keys them. The file is downloaded once per build and written into a snapshot.
import { digestOf } from "../../llb/digest.ts";
import type { SourceOp } from "../../llb/ops.ts";
import type { ExecContext, OpRunner } from "../../solver/vertex.ts";
import { type Download, download, parseHttpSource, safeFileName, writeDownload } from "../../source/http.ts";
import { type BuildRef, snapshotRef } from "../refs.ts";
import { sourceKey } from "../provenance-sources.ts";
import type { BuildSession } from "../session.ts";

export function httpSourceRunner(session: BuildSession, op: SourceOp): OpRunner<BuildRef> {
  const src = parseHttpSource(op);
  let fetched: Promise<Download> | undefined;
  const fetchOnce = (ctx: ExecContext) => (fetched ??= download(src, session.env.store, ctx.progress, ctx.signal));
  const key = { perm: src.perm, uid: src.uid, gid: src.gid };
  return {
    async cacheMap(ctx) {
      if (src.checksum) session.sourceDigests.set(sourceKey(op), src.checksum);
      if (src.checksum && src.filename) {
        return { digest: digestOf({ http: src.checksum, filename: safeFileName(src.filename), ...key }), deps: [], cacheable: true };
      }
      const dl = await fetchOnce(ctx);
      session.sourceDigests.set(sourceKey(op), dl.digest);
      const lastModified = dl.lastModified?.toUTCString() ?? "";
      return { digest: digestOf({ http: dl.digest, filename: dl.filename, lastModified, ...key }), deps: [], cacheable: true };
    },
    async exec(_inputs, ctx) {
      const dl = await fetchOnce(ctx);
      await using active = await session.env.snapshotter.prepare(null, "http");
      {
        await using target = await active.mount();
        writeDownload(dl, src, session.env.store.path(dl.digest), target.path);
      }
      return [snapshotRef(await active.commit())];
    },
  };
}
