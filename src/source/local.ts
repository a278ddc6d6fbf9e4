// The local build context: a directory on this machine seen through its .dockerignore patterns.
// kitbuild runs where the context is, so the context is read in place rather than transferred.
import { type Dirent, readdirSync, statSync } from "node:fs";
import { PatternMatcher } from "../util/patterns.ts";
import { KitError, errnoCode, wrapError } from "../util/errors.ts";

export class LocalContext {
  readonly excludes: PatternMatcher;

  constructor(
    readonly dir: string,
    excludePatterns: readonly string[],
  ) {
    this.excludes = new PatternMatcher(excludePatterns);
  }

  /** Directories left out by a pattern that hold a re-included path, by their path (see isExcluded). */
  private readonly holdsIncluded = new Map<string, boolean>();

  /**
   * Whether a context path ("a/b", relative to the context root) is left out by .dockerignore. An
   * excluded directory that holds a re-included path (`**` then `!dir/file`) is not: BuildKit's
   * context transfer (fsutil's walker) sends it as a parent of that path, so COPY finds it.
   */
  isExcluded(rel: string): boolean {
    if (this.excludes.empty || rel === "" || !this.excludes.matches(rel)) return false;
    return !(this.excludes.mayReinclude(rel) && this.holdsIncludedPath(rel));
  }

  /** Whether some path below directory `rel` is not excluded; memoized, so a walk stays linear. */
  private holdsIncludedPath(rel: string): boolean {
    const known = this.holdsIncluded.get(rel);
    if (known !== undefined) return known;
    let found = false;
    let entries: Dirent[] = [];
    try {
      entries = readdirSync(`${this.dir}/${rel}`, { withFileTypes: true });
    } catch {
      // Not a directory (or unreadable): nothing below it.
    }
    for (const e of entries) {
      const child = `${rel}/${e.name}`;
      if (!this.excludes.matches(child) || (e.isDirectory() && this.excludes.mayReinclude(child) && this.holdsIncludedPath(child))) {
        found = true;
        break;
      }
    }
    this.holdsIncluded.set(rel, found);
    return found;
  }

  /** Whether a walk must enter an excluded directory because something below may be re-included. */
  mustEnter(rel: string): boolean {
    return this.excludes.mayReinclude(rel);
  }
}

export function openLocalContext(dir: string, excludePatterns: readonly string[]): LocalContext {
  checkContextDir(dir);
  return new LocalContext(dir, excludePatterns);
}

/**
 * A build context must be an existing directory; buildx refuses a missing one before building
 * ("path ... not found"), whether or not any step reads the context.
 */
export function checkContextDir(dir: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    const code = errnoCode(e);
    if (code !== "ENOENT" && code !== "ENOTDIR") throw wrapError(e, "E_CONTEXT_UNREADABLE", `cannot read the build context "${dir}"`);
    throw new KitError("E_CONTEXT_NOT_FOUND", `path "${dir}" not found`, { cause: e, hint: "check the path given as the build context (the last argument)" });
  }
  if (!isDir) throw new KitError("E_CONTEXT_NOT_A_DIRECTORY", `build context "${dir}" is not a directory`, { hint: "the build context must be a directory" });
}
