// `type=image,push=true` / `type=registry`: the image's blobs and manifest pushed to each name
// through the registry client (existing blobs are not sent again; base layers are mounted from the
// base image's repository where the registry allows).
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
  progress: VertexProgress;
  signal: AbortSignal;
};

export async function pushToRegistry(req: PushRequest): Promise<void> {
  const { image, store } = req;
  const config = new Blob([image.config.bytes]);
  for (const name of req.names) {
    const ref = parseReference(name);
    const shown = formatReference(ref);
    req.progress.status(`pushing ${shown}`, 0);
    const blobs = [
      ...image.layers.map((desc) => ({ desc, data: Bun.file(store.path(desc.digest)) as Blob, mountFrom: mountSources(image.sources.get(desc.digest), ref) })),
      { desc: image.config.descriptor, data: config },
    ];
    await pushImage(
      req.client,
      ref,
      { blobs, manifests: [{ bytes: image.manifest.bytes, mediaType: image.manifest.descriptor.mediaType }] },
      { onBlob: (desc, how) => req.progress.statusDone(`${how === "uploaded" ? "pushed" : how === "mounted" ? "mounted" : "exists"} ${desc.digest}`) },
      req.signal,
    );
    req.progress.statusDone(`pushing ${shown}`);
  }
}
