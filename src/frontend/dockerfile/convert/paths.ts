// Path rules of the Dockerfile frontend, as BuildKit applies them: Go's path.Clean, WORKDIR
// normalization (an absolute path is taken as written), destinations relative to the working
// directory (a trailing "/" or "/." kept), and `--chown` values.
import { posix } from "node:path";
import type { ChownOpt } from "../../../llb/ops.ts";

/** Go's path.Clean: no trailing slash (except "/"), "." for an empty path. */
export function cleanPath(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}

/** path.Join("/", p) */
export function rootJoin(p: string): string {
  return cleanPath(`/${p}`);
}

/** The new working directory: relative paths join the current one; absolute ones are kept as written. */
export function normalizeWorkdir(current: string, wd: string): string {
  let parent = current === "" ? "/" : current;
  if (!parent.startsWith("/")) parent = rootJoin(parent);
  if (wd === "") return parent;
  return wd.startsWith("/") ? wd : cleanPath(`${parent}/${wd}`);
}

/**
 * A COPY/ADD destination as the file op receives it: relative to the working directory ("" and
 * "." mean the directory itself), cleaned, with a trailing "/" or "/." kept (they mean "into").
 */
export function destPath(workdir: string, dest: string): string {
  const p = dest === "" || dest === "." ? "./" : dest;
  const c = cleanPath(p.startsWith("/") ? p : `${workdir || "/"}/${p}`);
  if (p.endsWith("/")) return c.endsWith("/") ? c : `${c}/`;
  if (p.endsWith("/.")) return c === "/" ? "/." : `${c}/.`;
  return c;
}

/** "user", "user:group", "1000:1000" as a ChownOpt; names are resolved later against the destination. */
export function chownOf(spec: string): ChownOpt {
  const colon = spec.indexOf(":");
  const id = (v: string): string | number => (/^\d+$/.test(v) && Number(v) <= 0xffffffff ? Number(v) : v);
  if (colon < 0) return { user: id(spec) };
  return { user: id(spec.slice(0, colon)), group: id(spec.slice(colon + 1)) };
}
