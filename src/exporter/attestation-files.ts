// Attestations as files, for the outputs that write a filesystem (type=local, type=tar), as
// BuildKit's local and tar exporters write them: one in-toto statement per attestation, named by
// its path (provenance.json, sbom.spdx.json), whose subjects are the output's regular files (path
// and sha256 of the content).
import { createReadStream, lstatSync, readdirSync } from "node:fs";
import { canceledError } from "../util/abort.ts";
import { type Attestation, type StatementSubject, inTotoStatement } from "./attestations.ts";

export type AttestationFile = { name: string; bytes: Uint8Array };

export async function attestationFiles(attestations: readonly Attestation[], rootfs: string | undefined, signal: AbortSignal): Promise<AttestationFile[]> {
  if (attestations.length === 0) return [];
  const subjects = rootfs === undefined ? [] : await fileSubjects(rootfs, signal);
  return attestations.map((a) => ({ name: a.path, bytes: inTotoStatement(a, subjects) }));
}

/** Every regular file under `root`, in byte order of its path, with the sha256 of its content. */
async function fileSubjects(root: string, signal: AbortSignal): Promise<StatementSubject[]> {
  const out: StatementSubject[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = readdirSync(rel ? `${root}/${rel}` : root).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      if (signal.aborted) throw canceledError(signal);
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(`${root}/${path}`);
      if (st.isDirectory()) await walk(path);
      else if (st.isFile()) out.push({ name: path, digest: { sha256: await fileSha256(`${root}/${path}`) } });
    }
  };
  await walk("");
  return out;
}

async function fileSha256(path: string): Promise<string> {
  const hash = new Bun.CryptoHasher("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
