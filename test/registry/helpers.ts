// What the registry tests share: a client with short retry delays (and an idle timeout of choice), a content store in a temp dir,
// and a look into the store (which blobs it holds, whether anything was left half-written).
import { readdirSync } from "node:fs";
import { ContentStore } from "../../src/content/store.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import type { Credentials } from "../../src/registry/credentials.ts";
import { tempDir } from "../harness.ts";

export function testClient(creds?: Credentials, idleTimeoutMs?: number): RegistryClient {
  return new RegistryClient({ insecureRegistries: [], credentials: async () => creds, retry: { attempts: 3, baseDelayMs: 5 }, idleTimeoutMs });
}

export function tempStore(): ContentStore {
  return new ContentStore(`${tempDir("kitbuild-store-")}/content`);
}

/** The digests the store holds, and the files left in its ingest dir. */
export function storeContents(store: ContentStore): { blobs: string[]; ingest: string[] } {
  return {
    blobs: readdirSync(`${store.root}/blobs/sha256`).map((h) => `sha256:${h}`).sort(),
    ingest: readdirSync(`${store.root}/ingest`),
  };
}

export const sha256Of = (b: Uint8Array | string) => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}` as const;

export function signal(): AbortSignal {
  return new AbortController().signal;
}
