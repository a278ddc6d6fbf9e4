// One bounded walk of a root filesystem collecting the files the language scanners read: npm lock
// files and installed package.json files, Python package metadata, and executable files (Go
// binaries among them). Symlinks are never followed (a directory reached through one is not
// entered), /proc, /sys and /dev are skipped, and the walk stops after MAX_ENTRIES entries or
// MAX_DEPTH levels so a huge or hostile tree cannot hold a build. The walk is breadth-first in name
// order: when the bound cuts it short, the shallow system directories have been seen.
import { lstatSync, readdirSync, type Dirent } from "node:fs";
import { canceledError } from "../../util/abort.ts";

const SKIPPED = new Set(["/proc", "/sys", "/dev"]);
export const MAX_ENTRIES = 500_000;
const MAX_DEPTH = 48;

export type WalkFinds = {
  /** package-lock.json and node_modules/.package-lock.json files (in-root paths). */
  npmLocks: string[];
  /** package.json files of installed packages (node_modules/NAME/package.json, node_modules/@SCOPE/NAME/package.json). */
  npmPackages: string[];
  /** Python core metadata files (dist-info METADATA, egg-info PKG-INFO) under site-packages or dist-packages. */
  pythonMetadata: string[];
  /** Regular files with an execute bit. */
  executables: string[];
  /** Whether the walk stopped at its bound before seeing everything. */
  truncated: boolean;
};

/** Walks `root` (a host directory), looking at no more than `maxEntries` entries. */
export async function walkRoot(root: string, signal: AbortSignal, maxEntries = MAX_ENTRIES): Promise<WalkFinds> {
  const finds: WalkFinds = { npmLocks: [], npmPackages: [], pythonMetadata: [], executables: [], truncated: false };
  const pending: Array<{ path: string; depth: number }> = [{ path: "", depth: 0 }];
  let seen = 0;
  // A queue read by index: shift() would move the whole array for every directory.
  walk: for (let next = 0; next < pending.length; next++) {
    const dir = pending[next] as { path: string; depth: number };
    for (const entry of entriesOf(`${root}${dir.path}`)) {
      if (++seen > maxEntries) {
        finds.truncated = true;
        break walk;
      }
      // Reading a big tree takes a while: let aborts and other work in between.
      if (seen % 2000 === 0) {
        await new Promise((r) => setImmediate(r));
        if (signal.aborted) throw canceledError(signal);
      }
      const path = `${dir.path}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!SKIPPED.has(path) && dir.depth < MAX_DEPTH) pending.push({ path, depth: dir.depth + 1 });
      } else if (entry.isFile()) {
        classify(root, path, entry, finds);
      }
    }
  }
  for (const list of [finds.npmLocks, finds.npmPackages, finds.pythonMetadata, finds.executables]) list.sort();
  return finds;
}

function entriesOf(hostDir: string): Dirent[] {
  try {
    // Sorted, so that a walk cut short by its bound always sees the same files.
    return readdirSync(hostDir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return [];
  }
}

function classify(root: string, path: string, entry: Dirent, finds: WalkFinds): void {
  const parts = path.split("/");
  const name = entry.name;
  if (name === "package-lock.json" || (name === ".package-lock.json" && parts.at(-2) === "node_modules")) finds.npmLocks.push(path);
  else if (name === "package.json" && isInstalledNpmPackage(parts)) finds.npmPackages.push(path);
  else if (isPythonMetadata(parts)) finds.pythonMetadata.push(path);
  else if (isExecutable(`${root}${path}`)) finds.executables.push(path);
}

/** X.dist-info/METADATA, X.egg-info/PKG-INFO, or an X.egg-info file, under site-packages or dist-packages. */
function isPythonMetadata(parts: string[]): boolean {
  const name = parts.at(-1) as string;
  const parent = parts.at(-2) ?? "";
  const isMetadata = (name === "METADATA" && parent.endsWith(".dist-info")) || (name === "PKG-INFO" && parent.endsWith(".egg-info")) || name.endsWith(".egg-info");
  return isMetadata && parts.some((p) => p === "site-packages" || p === "dist-packages");
}

/** .../node_modules/NAME/package.json or .../node_modules/@SCOPE/NAME/package.json */
function isInstalledNpmPackage(parts: string[]): boolean {
  if (parts.at(-3) === "node_modules") return !(parts.at(-2) as string).startsWith("@") && !(parts.at(-2) as string).startsWith(".");
  return parts.at(-4) === "node_modules" && (parts.at(-3) as string).startsWith("@");
}

function isExecutable(host: string): boolean {
  try {
    const st = lstatSync(host);
    return st.isFile() && (st.mode & 0o111) !== 0 && st.size >= 64;
  } catch {
    return false;
  }
}
