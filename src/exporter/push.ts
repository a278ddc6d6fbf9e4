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
    const images = [image, ...(image.others ?? [])];
    const layers = new Map(images.flatMap((i) => i.layers.map((desc) => [desc.digest, { desc, source: i.sources.get(desc.digest) }] as const)));
    const blobs = [
      ...[...layers.values()].map(({ desc, source }) => ({ desc, data: Bun.file(store.path(desc.digest)) as Blob, mountFrom: mountSources(source, ref) })),
      { desc: image.config.descriptor, data: config },
      ...(image.others ?? []).map((i) => ({ desc: i.config.descriptor, data: new Blob([i.config.bytes]) })),
      ...(image.index?.blobs ?? []).map((b) => ({ desc: b.descriptor, data: new Blob([b.bytes]) })),
    ];
    // With an index: every platform's manifest and the index's other manifests first, the index under the tag.
    const manifests = [...images.map((i) => i.manifest), ...(image.index ? [...image.index.manifests, image.index.index] : [])].map((m) => ({ bytes: m.bytes, mediaType: m.descriptor.mediaType }));
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
