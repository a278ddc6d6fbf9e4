// Cache keys: an op's cache digest combined with each input's key (or content checksum).
import { digestOf } from "../llb/digest.ts";

export type KeyDep = { kind: "key"; key: string; output: number } | { kind: "content"; checksum: string };

export function cacheKey(opDigest: string, deps: KeyDep[]): string {
  return digestOf({ op: opDigest, deps });
}
