// sha256 digests in the "sha256:<hex>" form used everywhere (OCI, cache keys, vertices).
import type { Digest } from "../oci/types.ts";
import { encodeCanonical } from "./encode.ts";

export function sha256(data: Uint8Array | string): Digest {
  const h = new Bun.CryptoHasher("sha256");
  h.update(data);
  return `sha256:${h.digest("hex")}`;
}

/** The digest of a value's canonical encoding. */
export function digestOf(value: unknown): Digest {
  return sha256(encodeCanonical(value));
}

export function hexOf(d: string): string {
  return d.startsWith("sha256:") ? d.slice(7) : d;
}
