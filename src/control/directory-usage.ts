// Bytes a directory tree takes on disk (allocated blocks; hardlinked files counted once), walked
// without following links and yielding to the event loop now and then.
import { lstat, readdir } from "node:fs/promises";
import { errnoCode } from "../util/errors.ts";

export async function directoryUsage(path: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if (errnoCode(e) === "ENOENT" || errnoCode(e) === "ENOTDIR") return;
      throw e;
    }
    for (const name of names) {
      const p = `${dir}/${name}`;
      let st: Awaited<ReturnType<typeof lstat>>;
      try {
        st = await lstat(p, { bigint: true });
      } catch (e) {
        if (errnoCode(e) === "ENOENT") continue;
        throw e;
      }
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
      total += Number(st.blocks) * 512;
      if (st.isDirectory()) await walk(p);
    }
  };
  await walk(path);
  return total;
}
