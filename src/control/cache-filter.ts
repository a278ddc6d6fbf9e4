// `--filter` of `kitbuild du` and `kitbuild prune`, in buildx's syntax: KEY=VALUE, KEY!=VALUE or
// KEY~=REGEX, repeatable, all ANDed, each key at most once. BuildKit matches a key it does not know
// against nothing; here an unknown key or record type is a usage error instead, so a typo never
// turns a prune into a no-op or a du into an empty list without saying so.
import { KitError } from "../util/errors.ts";
import { parseDuration } from "../util/units.ts";

/** BuildKit's record types (`client.UsageRecordType`), the values `--filter type=` takes. */
export const RECORD_TYPES = ["internal", "frontend", "source.local", "source.git.checkout", "exec.cachemount", "regular"] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

type Op = "=" | "!=" | "~=";
type Selector = { key: "id" | "type" | "description"; op: Op; value: string; regex?: RegExp };

export type CacheFilter = {
  /** until= (or its deprecated synonym unused-for=): only records last used longer ago than this. */
  untilMs?: number;
  selectors: Selector[];
};

/** What a filter looks at in a record. */
export type FilterableRecord = { id: string; type: RecordType; description?: string; lastUsed: number };

const SELECTOR_KEYS = ["id", "type", "description"];
const REFUSED_KEYS = ["parents", "inuse", "mutable", "immutable", "shared", "private"];

/** Parses every `--filter` value given to `command`; throws E_USAGE for anything it cannot honour. */
export function parseCacheFilter(command: string, values: readonly string[]): CacheFilter {
  const filter: CacheFilter = { selectors: [] };
  const seen = new Set<string>();
  for (const text of values) {
    if (text === "") continue;
    const eq = text.indexOf("=");
    if (eq < 0) throw usage(command, `bad format of filter "${text}" (expected name=value)`);
    const name = text.slice(0, eq).trim().toLowerCase();
    const value = text.slice(eq + 1).trim();
    const op: Op = name.endsWith("!") ? "!=" : name.endsWith("~") ? "~=" : "=";
    const key = op === "=" ? name : name.slice(0, -1);
    if (seen.has(key) || ((key === "until" || key === "unused-for") && filter.untilMs !== undefined)) {
      throw usage(command, key === "until" || key === "unused-for" ? `conflicting filters "until" and "unused-for"` : `"${key}" filter expects only one value`);
    }
    seen.add(key);
    if (key === "until" || key === "unused-for") {
      const ms = op === "=" ? parseDuration(value) : undefined;
      if (ms === undefined) throw usage(command, `"${key}" filter expects a duration (e.g., '24h'), got "${text}"`);
      filter.untilMs = ms;
      continue;
    }
    if (REFUSED_KEYS.includes(key)) throw usage(command, `filter "${key}" is not supported by kitbuild`, "filter by id=, type=, description= or until=");
    if (!SELECTOR_KEYS.includes(key)) throw usage(command, `unknown filter "${key}"`, "filter by id=, type=, description= or until=");
    filter.selectors.push(selector(command, key as Selector["key"], op, value));
  }
  return filter;
}

function selector(command: string, key: Selector["key"], op: Op, value: string): Selector {
  if (key === "type" && op !== "~=" && !(RECORD_TYPES as readonly string[]).includes(value)) {
    throw usage(command, `unknown record type "${value}" in --filter`, `types are ${RECORD_TYPES.join(", ")}`);
  }
  if (op !== "~=") return { key, op, value };
  try {
    return { key, op, value, regex: new RegExp(value) };
  } catch {
    throw usage(command, `invalid regular expression "${value}" in --filter ${key}~=`);
  }
}

/** Whether `r` passes every selector (not `until`: what it means differs between du and prune). */
export function matchesSelectors(filter: CacheFilter, r: FilterableRecord): boolean {
  return filter.selectors.every((s) => {
    const field = s.key === "id" ? r.id : s.key === "type" ? r.type : (r.description ?? "");
    if (s.op === "~=") return s.regex?.test(field) === true;
    // An id also matches in the short form du's table shows (a digest's first 12 hex digits).
    const equal = s.key === "id" ? r.id === s.value || shortId(r.id) === s.value : field === s.value;
    return s.op === "=" ? equal : !equal;
  });
}

/** Whether `r` passes the whole filter at `now` (until: last used longer ago than the duration). */
export function matchesFilter(filter: CacheFilter, r: FilterableRecord, now: number): boolean {
  if (filter.untilMs !== undefined && r.lastUsed >= now - filter.untilMs) return false;
  return matchesSelectors(filter, r);
}

export function shortId(id: string): string {
  return id.startsWith("sha256:") ? id.slice(7, 19) : id;
}

function usage(command: string, message: string, hint = "see buildx's filter syntax: --filter KEY=VALUE, KEY!=VALUE or KEY~=REGEX"): KitError {
  return new KitError("E_USAGE", message, { hint: `${hint} (kitbuild ${command} --help)` });
}
