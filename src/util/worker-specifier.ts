// Where a worker's module is: beside the module that starts it when run from source, and under the
// bundle root in the compiled binary (scripts/build.ts compiles each worker as an extra entrypoint).

/** `fromSrc`: the worker's path below src/ ("fs/copy-worker.ts"); `caller`: the starter's import.meta.url. */
export function workerSpecifier(fromSrc: string, caller: string): string {
  if (caller.includes("/$bunfs/")) return `./${fromSrc}`;
  return new URL(`./${fromSrc.slice(fromSrc.lastIndexOf("/") + 1)}`, caller).href;
}
