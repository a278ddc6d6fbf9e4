// Node packages: package-lock.json (lockfileVersion 2 and 3 list `packages` by install path;
// version 1 nests `dependencies`; dev dependencies left out, as Syft does by default) and the
// package.json of each installed package in node_modules.
import { supplierOf, type FoundPackage } from "./found-package.ts";
import { purl } from "./purl.ts";
import { readHostFile } from "./root-files.ts";

const MAX_JSON_BYTES = 64 * 1024 * 1024;

type LockEntry = { name?: unknown; version?: unknown; license?: unknown; link?: unknown; dev?: unknown; dependencies?: unknown };

export function scanNpm(root: string, locks: readonly string[], installed: readonly string[]): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const path of locks) out.push(...lockPackages(readJson(root, path), path));
  for (const path of installed) {
    const manifest = readJson(root, path) as (LockEntry & { author?: unknown }) | undefined;
    const p = manifest && npmPackage(manifest.name, manifest.version, licenseOf(manifest.license), path, "installed node module package.json");
    if (p) out.push({ ...p, supplier: supplierOf(authorOf(manifest?.author)) });
  }
  return out;
}

function readJson(root: string, path: string): unknown {
  const bytes = readHostFile(`${root}${path}`, MAX_JSON_BYTES);
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

function lockPackages(lock: unknown, path: string): FoundPackage[] {
  if (typeof lock !== "object" || lock === null) return [];
  const { packages, dependencies } = lock as { packages?: unknown; dependencies?: unknown };
  const out: FoundPackage[] = [];
  const add = (name: unknown, e: LockEntry) => {
    const p = npmPackage(name, e.version, licenseOf(e.license), path, "npm package-lock.json");
    if (p) out.push(p);
  };
  if (isRecord(packages)) {
    for (const [installPath, entry] of Object.entries(packages)) {
      // "" is the project itself; links point at a workspace package listed on its own; dev
      // dependencies are not installed by `npm ci --omit=dev` (the installed package.json files
      // report them when they are there).
      if (installPath === "" || !isRecord(entry) || entry.link === true || entry.dev === true) continue;
      add((entry as LockEntry).name ?? nameFromInstallPath(installPath), entry as LockEntry);
    }
  } else if (isRecord(dependencies)) {
    const walk = (deps: Record<string, unknown>) => {
      for (const [name, entry] of Object.entries(deps)) {
        if (!isRecord(entry) || entry.dev === true) continue;
        add(name, entry as LockEntry);
        if (isRecord(entry.dependencies)) walk(entry.dependencies);
      }
    };
    walk(dependencies);
  }
  return out;
}

/** "node_modules/a/node_modules/@s/b" → "@s/b" */
function nameFromInstallPath(installPath: string): string | undefined {
  const at = installPath.lastIndexOf("node_modules/");
  return at < 0 ? undefined : installPath.slice(at + "node_modules/".length);
}

function npmPackage(name: unknown, version: unknown, license: string | undefined, path: string, foundBy: string): FoundPackage | undefined {
  if (typeof name !== "string" || typeof version !== "string" || name === "" || version === "") return undefined;
  const scoped = /^(@[^/]+)\/(.+)$/.exec(name);
  return {
    ecosystem: "npm",
    name,
    version,
    license,
    purl: purl({ type: "npm", namespace: scoped?.[1], name: scoped ? (scoped[2] as string) : name, version }),
    foundIn: path,
    foundBy,
  };
}

/** "MIT", { type: "MIT" } (old form) or [{ type }] (older still). */
function licenseOf(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (isRecord(v) && typeof v.type === "string") return v.type;
  if (Array.isArray(v)) {
    const types = v.map((l) => (isRecord(l) && typeof l.type === "string" ? l.type : undefined)).filter((t): t is string => !!t);
    return types.length > 0 ? types.join(" OR ") : undefined;
  }
  return undefined;
}

function authorOf(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (isRecord(v) && typeof v.name === "string") return typeof v.email === "string" ? `${v.name} <${v.email}>` : v.name;
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
