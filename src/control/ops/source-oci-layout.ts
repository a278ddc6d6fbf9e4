// Runs oci-layout:// sources (--build-context NAME=oci-layout://DIR…): "oci-layout://DIR@DIGEST",
// keyed by the manifest digest and platform; the layers are copied from the layout's blobs into the
// content store (checked against their digests) and unpacked as a pulled image's are.
import { digestOf } from "../../llb/digest.ts";
import type { SourceOp } from "../../llb/ops.ts";
import { formatPlatform } from "../../oci/platform.ts";
import type { Descriptor, Digest, Manifest } from "../../oci/types.ts";
import type { OpRunner } from "../../solver/vertex.ts";
import { KitError } from "../../util/errors.ts";
import { blobPath, readLayoutBlob } from "../oci-layout-context.ts";
import { type BuildRef, snapshotRef } from "../refs.ts";
import type { BuildSession } from "../session.ts";

export function ociLayoutSourceRunner(session: BuildSession, op: SourceOp): OpRunner<BuildRef> {
  const rest = op.identifier.slice("oci-layout://".length);
  const at = rest.lastIndexOf("@");
  if (at < 0) throw new KitError("E_INTERNAL", `oci-layout source "${op.identifier}" has no digest`);
  const dir = rest.slice(0, at);
  const digest = rest.slice(at + 1) as Digest;
  const platform = op.platform ?? session.platform;
  return {
    async cacheMap() {
      return { digest: digestOf({ ociLayout: digest, platform: formatPlatform(platform) }), deps: [], cacheable: true };
    },
    async exec(_inputs, ctx) {
      const manifest = JSON.parse(readLayoutBlob(dir, digest).toString("utf8")) as Manifest;
      const config = JSON.parse(readLayoutBlob(dir, manifest.config.digest).toString("utf8")) as { rootfs?: { diff_ids?: Digest[] } };
      const diffIds = config.rootfs?.diff_ids ?? [];
      if (diffIds.length !== manifest.layers.length) throw new KitError("E_CONTEXT_OCI_LAYOUT", `image ${digest} in "${dir}" lists ${manifest.layers.length} layers but its config has ${diffIds.length} diff ids`);
      const chain = manifest.layers.map((desc, i) => ({ desc, diffId: diffIds[i] as Digest }));
      const store = session.env.store;
      const fetch = async (desc: Descriptor) => {
        if (await store.has(desc.digest)) return;
        await store.write(Bun.file(blobPath(dir, desc.digest)).stream(), { digest: desc.digest, size: desc.size }, ctx.signal);
      };
      return [snapshotRef(await session.env.images.pullChain(chain, fetch, "", ctx.progress, ctx.signal))];
    },
  };
}
