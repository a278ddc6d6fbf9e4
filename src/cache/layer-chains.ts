// OCI chain IDs: the identity of a stack of layers (a base image's, or the first N layers of one),
// by which the cache index shares layer snapshots (layer_snapshots) between images.
import { sha256 } from "../llb/digest.ts";

/** chainID(L0) = diffID(L0); chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : sha256(`${out.at(-1)} ${d}`));
  return out;
}
