// How new-file-writers.ts hands a file to a copy worker. A batch travels as the JSON text of its
// jobs: cloning one string for a worker took a fifth of the main thread's time that cloning 64
// objects holding BigInts took (0.05 ms against 0.27 ms per batch; 312 batches for 20,000 files).
import type { NewFileMeta } from "./copy-new-file.ts";

/** from, to, size, owner's uid and gid (-1: the creator's), mode, atime and mtime in ns (decimal text), which xattrs. */
type NewFileJob = [string, string, number, number, number, number, string, string, NewFileMeta["xattrs"]];

export type DecodedJob = { from: string; to: string; size: number; meta: NewFileMeta };

/** One job as JSON text; a batch is `[` + its jobs joined by `,` + `]`. */
export function encodeNewFileJob(from: string, to: string, size: number, meta: NewFileMeta): string {
  const job: NewFileJob = [from, to, size, meta.owner?.uid ?? -1, meta.owner?.gid ?? -1, meta.mode, String(meta.atimeNs), String(meta.mtimeNs), meta.xattrs];
  return JSON.stringify(job);
}

export function decodeNewFileJobs(batch: string): DecodedJob[] {
  return (JSON.parse(batch) as NewFileJob[]).map(([from, to, size, uid, gid, mode, atimeNs, mtimeNs, xattrs]) => ({
    from, to, size, meta: { owner: uid < 0 ? undefined : { uid, gid }, mode, atimeNs: BigInt(atimeNs), mtimeNs: BigInt(mtimeNs), xattrs },
  }));
}
