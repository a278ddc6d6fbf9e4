// Image references normalized as docker does: "busybox" is docker.io/library/busybox:latest; the
// first path component names a registry only if it is "localhost" or contains "." or ":". Every part
// is checked against the distribution reference grammar (registry host and port, path components,
// tag, digest, at most 255 characters of name), so a malformed reference is an error, never a
// request to some host.
import { KitError } from "../util/errors.ts";

export type Reference = {
  /** Registry host as written, e.g. "docker.io", "127.0.0.1:5000". */
  domain: string;
  /** Repository path, e.g. "library/busybox". */
  path: string;
  tag?: string;
  digest?: string;
};

const DEFAULT_DOMAIN = "docker.io";
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6_HOST = /^\[[a-fA-F0-9:]+\]$/;
const NAME_MAX = 255;

export function parseReference(input: string): Reference {
  const bad = (why: string) =>
    new KitError("E_REGISTRY_INVALID_REFERENCE", `invalid image reference "${input}": ${why}`, {
      hint: "references look like NAME[:TAG][@sha256:DIGEST], e.g. busybox:1.36 or registry.example.com/team/app:v1",
    });
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(`"${digest}" is not a sha256 digest`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`"${tag}" is not a valid tag`);
  }
  if (rest === "") throw bad("the name is empty");
  const parts = rest.split("/");
  let domain = DEFAULT_DOMAIN;
  const first = parts[0] as string;
  if (parts.length > 1 && (first === "localhost" || first.includes(".") || first.includes(":"))) {
    domain = first;
    parts.shift();
  }
  if (domain !== DEFAULT_DOMAIN) {
    const why = domainProblem(domain);
    if (why) throw bad(why);
  }
  if (parts.length === 1 && domain === DEFAULT_DOMAIN && /^[a-f0-9]{64}$/.test(first)) throw bad("a 64-character hexadecimal name looks like an image ID, not a name");
  if (domain === "index.docker.io") domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && parts.length === 1) parts.unshift("library");
  for (const p of parts) {
    if (p === "") throw bad("a path component is empty");
    if (!PATH_COMPONENT.test(p)) throw bad(`"${p}" must be lowercase letters, digits and separators`);
  }
  if (rest.length > NAME_MAX) throw bad(`the name is longer than ${NAME_MAX} characters`);
  if (!tag && !digest) tag = "latest";
  const ref: Reference = { domain, path: parts.join("/") };
  if (tag) ref.tag = tag;
  if (digest) ref.digest = digest;
  return ref;
}

/** Why a registry host[:port] breaks the grammar (or names no usable port), if it does. */
function domainProblem(domain: string): string | undefined {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(domain);
  const host = m?.[1] ?? "";
  const port = m?.[2];
  if (host === "") return `the registry "${domain}" has no host name`;
  const hostOk = host.startsWith("[") ? IPV6_HOST.test(host) : host.split(".").every((c) => DOMAIN_COMPONENT.test(c));
  if (!hostOk) return `"${host}" is not a valid registry host name`;
  if (port === undefined) return undefined;
  if (port === "") return `the registry "${domain}" has an empty port`;
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) return `the registry port "${port}" is not a number from 1 to 65535`;
  return undefined;
}

export function formatReference(ref: Reference): string {
  return `${ref.domain}/${ref.path}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** Docker Hub's API lives on another host than its name. */
export function apiHost(domain: string): string {
  return domain === DEFAULT_DOMAIN ? "registry-1.docker.io" : domain;
}

/** Loopback registries are spoken to over plain HTTP, as docker does, plus any the user names. */
export function usesPlainHttp(domain: string, insecure: readonly string[]): boolean {
  if (insecure.includes(domain)) return true;
  const host = hostOf(domain);
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host) || insecure.includes(host);
}

function hostOf(domain: string): string {
  if (domain.startsWith("[")) return domain.slice(1, domain.indexOf("]"));
  const colon = domain.lastIndexOf(":");
  return colon >= 0 && domain.indexOf(":") === colon ? domain.slice(0, colon) : domain;
}
