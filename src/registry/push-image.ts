// Pushing a whole image or index, for the image exporter: every blob first (a few at once; each
// one checked, mounted or uploaded), then the manifests in the order given, children before the
// index that lists them, by digest, and the last one under the tag. A registry never sees a
// manifest that names something it does not have yet.
import { sha256 } from "../llb/digest.ts";
import type { Descriptor, Digest } from "../oci/types.ts";
import { Limiter } from "../util/limiter.ts";
import type { RegistryClient } from "./client.ts";
import { type PushBlobOptions, type PushedBlob, pushBlob, putManifest } from "./push.ts";
import type { Reference } from "./reference.ts";

export type BlobToPush = {
  desc: Descriptor;
  /** The bytes: `Bun.file(store.path(digest))` reads nothing unless the blob has to be uploaded. */
  data: Blob;
  /** Repositories of the same registry that may hold it already (the base image's). */
  mountFrom?: readonly string[];
};

/** The repository of `ref`'s registry a blob may be mounted from, given where it came from ("host/path"). */
export function mountSources(source: string | undefined, ref: Reference): string[] {
  if (!source?.startsWith(`${ref.domain}/`)) return [];
  const path = source.slice(ref.domain.length + 1);
  return path === ref.path ? [] : [path];
}

export type ManifestToPush = { bytes: Uint8Array; mediaType: string };

export type PushPlan = {
  blobs: readonly BlobToPush[];
  /** Children first; the last one is the image (or index) the tag names. */
  manifests: readonly ManifestToPush[];
};

export type PushImageOptions = {
  parallel?: number;
  chunkSize?: number;
  /** Told how each blob got there, for progress. */
  onBlob?: (desc: Descriptor, how: PushedBlob) => void;
};

/** Pushes the plan to `ref` (whose tag, if any, names the last manifest); returns that manifest's digest. */
export async function pushImage(client: RegistryClient, ref: Reference, plan: PushPlan, opts: PushImageOptions, signal: AbortSignal): Promise<Digest> {
  const last = plan.manifests.at(-1);
  if (!last) throw new RangeError("a push plan needs at least one manifest");
  const limiter = new Limiter(opts.parallel ?? 4);
  const unique = [...new Map(plan.blobs.map((b) => [b.desc.digest, b])).values()];
  const blobOpts = (b: BlobToPush): PushBlobOptions => ({ mountFrom: b.mountFrom, chunkSize: opts.chunkSize });
  const pushes = unique.map((b) =>
    limiter.run(async () => {
      // Not inside `onBlob?.(…)`: an optional call skips evaluating its arguments when onBlob is unset.
      const how = await pushBlob(client, ref, b.desc, b.data, blobOpts(b), signal);
      opts.onBlob?.(b.desc, how);
    }, signal),
  );
  // Settle all before failing, so no upload is still running when the error is reported.
  const results = await Promise.allSettled(pushes);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  for (const m of plan.manifests.slice(0, -1)) await putManifest(client, ref, sha256(m.bytes), m.bytes, m.mediaType, signal);
  return putManifest(client, ref, ref.tag ?? sha256(last.bytes), last.bytes, last.mediaType, signal);
}
