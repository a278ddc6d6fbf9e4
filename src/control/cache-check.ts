// Checks a cache root for consistency: every record in the index points at intact data (results
// and layer records at committed snapshots whose directories exist, snapshots at existing parents,
// blobs whose content matches their digest). Used after crash tests, and by `kitbuild debug check`.
import { existsSync } from "node:fs";
import { hashFile } from "../file/checksum.ts";
import type { BuildEnvironment } from "./environment.ts";

export async function checkCache(env: BuildEnvironment): Promise<string[]> {
  const problems: string[] = [];
  const snapshots = new Map(env.index.allSnapshots().map((s) => [s.id, s]));
  const dir = (id: number) => `${env.root}/snapshots/${id}/fs`;
  for (const s of snapshots.values()) {
    if (s.state !== "committed") continue;
    if (!existsSync(dir(s.id))) problems.push(`snapshot ${s.id} is committed but its directory is missing`);
    if (s.parent !== null && snapshots.get(s.parent)?.state !== "committed") {
      problems.push(`snapshot ${s.id} stands on snapshot ${s.parent}, which is not committed`);
    }
  }
  const results = env.index.db.query("SELECT key, output, snapshot FROM results").all() as Array<{ key: string; output: number; snapshot: number }>;
  for (const r of results) {
    if (snapshots.get(r.snapshot)?.state !== "committed") problems.push(`result ${r.key.slice(7, 19)}/${r.output} points at snapshot ${r.snapshot}, which is not committed`);
  }
  const layers = env.index.db.query("SELECT chain_id, snapshot FROM layer_snapshots").all() as Array<{ chain_id: string; snapshot: number }>;
  for (const l of layers) {
    if (snapshots.get(l.snapshot)?.state !== "committed") problems.push(`layer ${l.chain_id.slice(7, 19)} points at snapshot ${l.snapshot}, which is not committed`);
  }
  for (const b of await env.store.list()) {
    const actual = `sha256:${hashFile(env.store.path(b.digest))}`;
    if (actual !== b.digest) problems.push(`blob ${b.digest} holds content with digest ${actual}`);
  }
  return problems;
}
