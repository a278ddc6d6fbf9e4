// A copy worker: copies batches of small files to paths where nothing is yet (copyNewFile), so a
// COPY of many files creates them on two threads while the main thread walks the source.
// (scripts/build.ts compiles this file into the binary as an extra entrypoint.)
import { copyNewFile } from "./copy-new-file.ts";
import { decodeNewFileJobs } from "./new-file-job.ts";

declare const self: Worker;

/** `jobs`: the batch as new-file-job.ts encodes it. */
export type CopyBatch = { id: number; jobs: string };
/** `failed`: the first job that failed, with its error's code and message; the jobs after it were not done. */
export type CopyBatchDone = { id: number; failed?: { to: string; code: string | undefined; message: string } };

self.onmessage = (e: MessageEvent<CopyBatch>) => {
  const { id } = e.data;
  let failed: CopyBatchDone["failed"];
  for (const { from, to, size, meta } of decodeNewFileJobs(e.data.jobs)) {
    try {
      // Nothing can be at `to` (the caller made its directory): "something is there" is a failure.
      if (!copyNewFile(from, to, size, meta)) failed = { to, code: "EEXIST", message: `EEXIST: file already exists, open '${to}'` };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      failed = { to, code: typeof code === "string" ? code : undefined, message: (err as Error).message };
    }
    if (failed) break;
  }
  self.postMessage({ id, ...(failed ? { failed } : {}) } satisfies CopyBatchDone);
};
