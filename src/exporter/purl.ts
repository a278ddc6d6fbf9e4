// Package URLs of images, as BuildKit names them in attestations (its util/purl): "pkg:docker/",
// the familiar repository name, "@" the tag (else the digest, else "latest"), and the platform as
// a qualifier. Used for the statements' subjects and the provenance's materials.
import type { Platform } from "../oci/types.ts";
import { formatPlatform } from "../oci/platform.ts";
import { parseReference } from "../registry/reference.ts";

export function imagePurl(name: string, platform?: Platform): string {
  const ref = parseReference(name);
  const path = ref.domain === "docker.io" && ref.path.startsWith("library/") ? ref.path.slice("library/".length) : ref.path;
  const repo = ref.domain === "docker.io" ? path : `${ref.domain}/${path}`;
  const version = ref.tag ?? ref.digest ?? "latest";
  // Each path segment is escaped as a URL path segment; the version's ":" (a digest's) too.
  const segments = repo.split("/").map((s) => encodeURIComponent(s).replace(/%3A/gi, ":"));
  const qualifier = platform ? `?platform=${encodeURIComponent(formatPlatform(platform))}` : "";
  return `pkg:docker/${segments.join("/")}@${encodeURIComponent(version)}${qualifier}`;
}
