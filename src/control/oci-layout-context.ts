// oci-layout://DIR[:TAG][@DIGEST] named contexts: an image in an OCI layout directory on this
// machine (what `kitbuild build -o type=oci,tar=false,dest=DIR` writes). As buildx: a digest picks
// the manifest (or index) itself; else the tag ("latest" by default) is looked up by the
// io.containerd.image.name, then the org.opencontainers.image.ref.name annotation, and a layout with a
// single manifest is taken whatever its name. An index is narrowed to the build's platform.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { sha256 } from "../llb/digest.ts";
import { INDEX_MEDIA_TYPES } from "../oci/media-types.ts";
import { formatPlatform } from "../oci/platform.ts";
import type { Descriptor, Digest, ImageConfig, Index, Manifest, Platform } from "../oci/types.ts";
import { choosePlatform } from "../registry/platform.ts";
import { errnoCode, KitError } from "../util/errors.ts";

const PREFIX = "oci-layout://";
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

export type OciLayoutRef = { dir: string; tag: string | undefined; digest: string | undefined };

/** "oci-layout://DIR[:TAG][@DIGEST]" split as buildx's ocilayout.Parse does (the tag defaults to latest). */
export function parseOciLayoutValue(value: string): OciLayoutRef {
  let path = value.slice(PREFIX.length);
  let digest: string | undefined;
  let tag: string | undefined;
  const at = path.lastIndexOf("@");
  if (at >= 0 && DIGEST.test(path.slice(at + 1))) [path, digest] = [path.slice(0, at), path.slice(at + 1)];
  const colon = path.lastIndexOf(":");
  if (colon >= 0 && TAG.test(path.slice(colon + 1)) && !path.slice(colon + 1).includes("/")) [path, tag] = [path.slice(0, colon), path.slice(colon + 1)];
  if (tag === undefined && digest === undefined) tag = "latest";
  return { dir: resolve(path), tag, digest };
}

export type ResolvedLayout = { identifier: string; manifestDigest: Digest; manifest: Manifest; config: ImageConfig };

type LayoutIndex = { manifests: Array<Descriptor & { annotations?: Record<string, string> }> };

export function blobPath(dir: string, digest: string): string {
  return `${dir}/blobs/${digest.replace(":", "/")}`;
}

/** The bytes of a blob of the layout, checked against their digest. */
export function readLayoutBlob(dir: string, digest: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(blobPath(dir, digest));
  } catch (e) {
    throw new KitError("E_CONTEXT_OCI_LAYOUT", `the OCI layout "${dir}" has no blob ${digest}`, { cause: e, hint: errnoCode(e) === "ENOENT" ? "the layout is incomplete: export it again" : undefined });
  }
  if (sha256(bytes) !== digest) throw new KitError("E_CONTEXT_OCI_LAYOUT", `blob ${digest} of the OCI layout "${dir}" does not match its digest`);
  return bytes;
}

/** The image the reference names in its layout, for `platform`. */
export function resolveOciLayout(ref: OciLayoutRef, platform: Platform): ResolvedLayout {
  const shown = `oci-layout://${ref.dir}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
  let top: string;
  if (ref.digest !== undefined) top = ref.digest;
  else {
    const index = readIndex(ref.dir, shown);
    const byName = (key: string) => index.manifests.find((m) => m.annotations?.[key] === ref.tag);
    const found = byName("io.containerd.image.name") ?? byName("org.opencontainers.image.ref.name") ?? (index.manifests.length === 1 ? index.manifests[0] : undefined);
    if (!found) throw new KitError("E_CONTEXT_OCI_LAYOUT", `oci-layout reference "${shown}" could not be resolved: no image is tagged "${ref.tag}"`, { hint: "name the image with :TAG or @sha256:DIGEST" });
    top = found.digest;
  }
  let digest = top as Digest;
  let doc = JSON.parse(readLayoutBlob(ref.dir, digest).toString("utf8")) as Manifest | Index;
  if (INDEX_MEDIA_TYPES.includes(doc.mediaType ?? "") || "manifests" in doc) {
    const chosen = choosePlatform((doc as Index).manifests, platform);
    if (!chosen) throw new KitError("E_CONTEXT_OCI_LAYOUT", `"${shown}" has no image for ${formatPlatform(platform)}`);
    digest = chosen.digest;
    doc = JSON.parse(readLayoutBlob(ref.dir, digest).toString("utf8")) as Manifest;
  }
  const manifest = doc as Manifest;
  const config = JSON.parse(readLayoutBlob(ref.dir, manifest.config.digest).toString("utf8")) as ImageConfig;
  return { identifier: `${PREFIX}${ref.dir}@${digest}`, manifestDigest: digest, manifest, config };
}

function readIndex(dir: string, shown: string): LayoutIndex {
  try {
    return JSON.parse(readFileSync(`${dir}/index.json`, "utf8")) as LayoutIndex;
  } catch (e) {
    throw new KitError("E_CONTEXT_OCI_LAYOUT", `"${shown}" is not an OCI layout: cannot read its index.json`, { cause: e, hint: "give a directory written by -o type=oci,tar=false,dest=DIR" });
  }
}
