// What an extraction remembers about parent directories, so that an archive of many files does not
// resolve and lstat every component of every entry's parent: each dirname's in-root resolution, and
// the paths known to be directories now. Anything removed clears both (it may have been one of them).
import { chmodSync, mkdirSync } from "node:fs";
import { lstatOrUndefined } from "../fs/copy-tree.ts";
import { inRootPath } from "../fs/fs-safe.ts";

export class ExtractParents {
  /** Resolved parents by entry dirname. */
  private readonly parents = new Map<string, string>();
  /** Whether some parent in `parents` was resolved through a symlink. */
  private followedLinks = false;
  /** Whether some parent in `parents` was not made a directory (a whiteout's parent is only resolved). */
  private unmade = false;
  /** Paths (relative, "/a/b") known to be directories now: made or checked by this extraction. */
  private readonly dirs = new Set<string>();

  /** `remove`: removes a path in the tree, and must call forget(). */
  constructor(
    private readonly root: string,
    private readonly remove: (path: string) => void,
  ) {}

  /** The in-root path ("/a/b") an entry's dirname resolves to, symlinks followed inside the root. */
  resolve(dirname: string): string {
    const known = this.parents.get(dirname);
    if (known !== undefined) return known;
    const resolved = inRootPath(this.root, dirname, true);
    if (resolved !== (dirname === "." ? "/" : `/${dirname}`)) this.followedLinks = true;
    this.parents.set(dirname, resolved);
    return resolved;
  }

  /** A resolved parent that is used without being made a directory (a whiteout's). */
  resolvedOnly(): void {
    this.unmade = true;
  }

  /**
   * A new symlink (where nothing was: anything there was removed, which clears every cache) can
   * change a resolved parent that passed its place without making it a directory: one resolved
   * through another symlink (whose target may name the place, even with ".." after it), or one
   * only resolved for a whiteout. Every other parent was made a directory by ensure(), all its
   * components, so the new symlink cannot be on its way.
   */
  symlinkMade(): void {
    if (this.followedLinks || this.unmade) this.forgetResolved();
  }

  /** After a removal. */
  forget(): void {
    this.forgetResolved();
    this.dirs.clear();
  }

  isDirectory(rel: string): boolean {
    return this.dirs.has(rel);
  }

  madeDirectory(rel: string): void {
    this.dirs.add(rel);
  }

  /** Creates missing parent directories (an archive may omit them) as root-owned 0755. */
  ensure(parent: string): void {
    if (parent === "/" || this.dirs.has(parent)) return;
    let cur = "";
    for (const part of parent.slice(1).split("/")) {
      cur = `${cur}/${part}`;
      if (this.dirs.has(cur)) continue;
      const path = this.root + cur;
      const st = lstatOrUndefined(path);
      if (!st?.isDirectory()) {
        if (st) this.remove(path);
        mkdirSync(path);
        chmodSync(path, 0o755);
      }
      this.dirs.add(cur);
    }
  }

  private forgetResolved(): void {
    this.parents.clear();
    this.followedLinks = false;
    this.unmade = false;
  }
}
