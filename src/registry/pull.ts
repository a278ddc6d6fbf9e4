// Downloads a blob into the content store: streamed, hashed on the way, published only when its
// size and digest match. A blob already in the store is not fetched again.
import type { ContentStore } from "../content/store.ts";
import type { Descriptor } from "../oci/types.ts";
import type { RegistryClient } from "./client.ts";
import type { Reference } from "./reference.ts";

export type BlobProgress = (current: number, total: number) => void;

export async function fetchBlobToStore(
  client: RegistryClient,
  ref: Reference,
  desc: Descriptor,
  store: ContentStore,
  signal: AbortSignal,
  onProgress?: BlobProgress,
): Promise<void> {
  if (await store.has(desc.digest)) {
    onProgress?.(desc.size, desc.size);
    return;
  }
  const res = await client.getBlob(ref, desc.digest, signal);
  if (!res.body) throw new Error("blob response has no body");
  await store.write(res.body, { digest: desc.digest, size: desc.size }, signal, (n) => onProgress?.(n, desc.size));
}
