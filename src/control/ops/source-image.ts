// Runs docker-image:// sources: keyed by the resolved manifest digest and platform, pulled into
// layer snapshots only when a step that needs the filesystem is not cached.
import { digestOf } from "../../llb/digest.ts";
import type { SourceOp } from "../../llb/ops.ts";
import { formatPlatform } from "../../oci/platform.ts";
import { formatReference, parseReference } from "../../registry/reference.ts";
import type { OpRunner } from "../../solver/vertex.ts";
import { type BuildRef, snapshotRef } from "../refs.ts";
import type { BuildSession } from "../session.ts";

export function imageSourceRunner(session: BuildSession, op: SourceOp): OpRunner<BuildRef> {
  const refText = op.identifier.slice("docker-image://".length);
  const platform = op.platform ?? session.platform;
  const resolved = () => session.resolveImage(parseReference(refText), platform);
  return {
    async cacheMap(ctx) {
      const img = await resolved();
      ctx.progress.statusDone(`resolve ${formatReference(img.ref)}`);
      return { digest: digestOf({ image: img.manifestDigest, platform: formatPlatform(platform) }), deps: [], cacheable: true };
    },
    async exec(_inputs, ctx) {
      const img = await resolved();
      const top = await session.env.images.pull(img, ctx.progress, ctx.signal);
      return [snapshotRef(top)];
    },
  };
}
