// Package URLs (https://github.com/package-url/purl-spec): type, namespace, name, version and
// qualifiers, each percent-encoded; qualifiers sorted by key as the spec asks.

/** Percent-encodes a purl component, keeping the characters purl readers take literally in it. */
function encode(part: string, keep: RegExp): string {
  return [...part].map((c) => (keep.test(c) ? c : encodeURIComponent(c).replace(/[!'()*]/g, (x) => `%${x.charCodeAt(0).toString(16).toUpperCase()}`))).join("");
}

const SEGMENT = /[A-Za-z0-9.\-_~]/;
const VERSION = /[A-Za-z0-9.\-_~:+]/;

export type PurlParts = {
  type: string;
  /** Namespace segments joined by "/" (a Go module path's directories, an npm scope). */
  namespace?: string;
  name: string;
  version?: string;
  qualifiers?: Record<string, string | undefined>;
};

export function purl(p: PurlParts): string {
  const ns = p.namespace ? `${p.namespace.split("/").filter(Boolean).map((s) => encode(s, SEGMENT)).join("/")}/` : "";
  const version = p.version ? `@${encode(p.version, VERSION)}` : "";
  const qualifiers = Object.entries(p.qualifiers ?? {})
    .filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== "")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${encode(v, VERSION)}`);
  return `pkg:${p.type}/${ns}${encode(p.name, SEGMENT)}${version}${qualifiers.length > 0 ? `?${qualifiers.join("&")}` : ""}`;
}
