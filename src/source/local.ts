// The local build context: a directory on this machine seen through its .dockerignore patterns.
// kitbuild runs where the context is, so the context is read in place rather than transferred.
import { lstatSync } from "node:fs";
import { PatternMatcher } from "../util/patterns.ts";
import { KitError, errnoCode } from "../util/errors.ts";

export class LocalContext {
  readonly excludes: PatternMatcher;

  constructor(
    readonly dir: string,
    excludePatterns: readonly string[],
  ) {
    this.excludes = new PatternMatcher(excludePatterns);
  }

  /** Whether a context path ("a/b", relative to the context root) is left out by .dockerignore. */
  isExcluded(rel: string): boolean {
    return !this.excludes.empty && rel !== "" && this.excludes.matches(rel);
  }

  /** Whether a walk must enter an excluded directory because something below may be re-included. */
  mustEnter(rel: string): boolean {
    return this.excludes.mayReinclude(rel);
  }
}

export function openLocalContext(dir: string, excludePatterns: readonly string[]): LocalContext {
  try {
    if (!lstatSync(dir).isDirectory()) throw new Error("not a directory");
  } catch (e) {
    throw new KitError("E_CONTEXT_NOT_FOUND", `build context "${dir}" is not a directory`, {
      cause: e,
      hint: errnoCode(e) === "ENOENT" ? "check the path given as the build context" : "the build context must be a directory",
    });
  }
  return new LocalContext(dir, excludePatterns);
}
