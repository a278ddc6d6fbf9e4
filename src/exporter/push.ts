// `type=image,push=true` / `type=registry`: the image's blobs and manifest pushed to each name
// through the registry client (existing blobs are not sent again; base layers are mounted from the
// base image's repository where the registry allows); `push-by-digest` leaves the tag out.
import type { ContentStore } from "../content/store.ts";
import type { RegistryClient } from "../registry/client.ts";
import { mountSources, pushImage } from "../registry/push-image.ts";
import { formatReference, parseReference } from "../registry/reference.ts";
import type { VertexProgress } from "../util/progress.ts";
import type { BuiltImage } from "./image.ts";

export type PushRequest = {
  client: RegistryClient;
  store: ContentStore;
  image: BuiltImage;
  names: string[];
  /** `push-by-digest=true`: the manifest by digest only, no tag. */
  byDigest?: boolean;
  progress: VertexProgress;
  signal: AbortSignal;
};

export async function pushToRegistry(req: PushRequest): Promise<void> {
  const { image, store } = req;
  const config = new Blob([image.config.bytes]);
  for (const name of req.names) {
    const named = parseReference(name);
    const ref = req.byDigest ? { domain: named.domain, path: named.path } : named;
    const shown = req.byDigest ? `${formatReference(ref)}@${image.manifest.descriptor.digest}` : formatReference(ref);
    req.progress.status(`pushing ${shown}`, 0);
    const blobs = [
      ...image.layers.map((desc) => ({ desc, data: Bun.file(store.path(desc.digest)) as Blob, mountFrom: mountSources(image.sources.get(desc.digest), ref) })),
      { desc: image.config.descriptor, data: config },
      ...(image.index?.blobs ?? []).map((b) => ({ desc: b.descriptor, data: new Blob([b.bytes]) })),
    ];
    // With an index: the image manifest and the index's other manifests first, the index under the tag.
    const manifests = [image.manifest, ...(image.index ? [...image.index.manifests, image.index.index] : [])].map((m) => ({ bytes: m.bytes, mediaType: m.descriptor.mediaType }));
    await pushImage(
      req.client,
      ref,
      { blobs, manifests },
      { onBlob: (desc, how) => req.progress.statusDone(`${how === "uploaded" ? "pushed" : how === "mounted" ? "mounted" : "exists"} ${desc.digest}`) },
      req.signal,
    );
    req.progress.statusDone(`pushing ${shown}`);
  }
}
