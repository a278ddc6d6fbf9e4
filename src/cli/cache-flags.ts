// `--cache-from` and `--cache-to`, read as buildx reads them: CSV `type=…,key=value`, or a plain
// reference meaning type=registry,ref=REF. Registry and local (OCI layout directory) caches are
// kitbuild's, and so is inline (the cache in the image's config); gha, s3 and azblob are refused
// with what to use instead. Unknown attributes are errors, never ignored.
import type { CacheExport, CacheImport } from "../control/request.ts";
import { usageError } from "./build-flag-table.ts";
import { splitCsv } from "./output-flags.ts";
import { GZIP_LEVEL_HINT, isGzipLevel } from "../exporter/compress-chunk.ts";

type Direction = "from" | "to";

/** How an exported cache's layers are written (as for an image output's). */
const LAYER_ATTRS = ["compression", "compression-level", "force-compression", "oci-mediatypes", "image-manifest"] as const;

/** The attributes each direction of each type takes. */
const ATTRS: Record<"registry" | "local", Record<Direction, readonly string[]>> = {
  registry: { from: ["ref"], to: ["ref", "mode", "ignore-error", "max-entries", "cache-mounts", ...LAYER_ATTRS] },
  local: { from: ["src", "tag"], to: ["dest", "tag", "mode", "ignore-error", "max-entries", "cache-mounts", ...LAYER_ATTRS] },
};

const NOT_YET: Record<string, string> = {
  gha: "type=gha is not supported yet: use --cache-to type=registry,ref=… (or type=local,dest=DIR with your CI's cache action)",
  s3: "type=s3 is not supported yet: use a registry (--cache-to type=registry,ref=…) or type=local,dest=DIR",
  azblob: "type=azblob is not supported yet: use a registry (--cache-to type=registry,ref=…) or type=local,dest=DIR",
};

const usage = (message: string, hint?: string) => usageError("build", message, hint);

export function parseCacheFlags(values: readonly string[], direction: "from"): CacheImport[];
export function parseCacheFlags(values: readonly string[], direction: "to"): CacheExport[];
export function parseCacheFlags(values: readonly string[], direction: Direction): Array<CacheImport | CacheExport> {
  return values.map((v) => parseCacheFlag(v, direction));
}

function parseCacheFlag(value: string, direction: Direction): CacheImport | CacheExport {
  const flag = `--cache-${direction}`;
  if (!value.includes("=")) return { type: "registry", attrs: { ref: value } };
  const attrs: Record<string, string> = {};
  let type = "registry";
  for (const field of splitCsv(value)) {
    const eq = field.indexOf("=");
    if (eq <= 0) throw usage(`invalid ${flag} field "${field}" in "${value}"`, `write it as ${flag} type=registry,ref=REG/REPO:TAG`);
    const key = field.slice(0, eq).trim();
    if (key === "type") type = field.slice(eq + 1);
    else attrs[key] = field.slice(eq + 1);
  }
  if (NOT_YET[type]) throw usage(`${flag} ${NOT_YET[type]}`);
  if (type === "inline") {
    // The cache travels in the image: import it with --cache-from IMAGE.
    if (direction === "from") throw usage("--cache-from type=inline is not a type: name the image itself", "use --cache-from REG/REPO:TAG");
    if (Object.keys(attrs).length > 0) throw usage(`--cache-to type=inline takes no attributes, got ${Object.keys(attrs).join(", ")}`, "the inline cache holds the final image's steps (mode=min)");
    return { type, attrs };
  }
  if (type !== "registry" && type !== "local") throw usage(`unknown ${flag} type "${type}"`, "use type=registry or type=local");
  const allowed = ATTRS[type][direction];
  for (const key of Object.keys(attrs)) {
    if (!allowed.includes(key)) throw usage(`unknown attribute "${key}" in ${flag} type=${type}`, `type=${type} takes ${allowed.join(", ")}`);
  }
  checkValues(flag, type, direction, attrs);
  return { type, attrs };
}

function checkValues(flag: string, type: string, direction: Direction, attrs: Record<string, string>): void {
  const required = type === "registry" ? "ref" : direction === "from" ? "src" : "dest";
  if (!attrs[required]) throw usage(`${flag} type=${type} needs ${required}=`, `for example ${flag} type=${type},${required}=${type === "registry" ? "REG/REPO:cache" : "DIR"}`);
  const oneOf = (key: string, values: string[], hint: string) => {
    const v = attrs[key];
    if (v !== undefined && !values.includes(v)) throw usage(`invalid ${key}="${v}" in ${flag}`, hint);
  };
  oneOf("mode", ["min", "max"], "use mode=min (the final image's steps) or mode=max (every step)");
  oneOf("ignore-error", ["true", "false"], "use ignore-error=true or ignore-error=false");
  if (attrs.compression === "estargz") throw usage(`compression=estargz is not supported in ${flag}`, "use compression=gzip, zstd or uncompressed (lazy pulling of eStargz layers is not supported)");
  oneOf("compression", ["gzip", "zstd", "uncompressed"], "use gzip, zstd or uncompressed");
  const level = attrs["compression-level"];
  if (level !== undefined && !/^-?\d+$/.test(level)) throw usage(`invalid compression-level="${level}" in ${flag}`, "give a number (gzip 0-9, zstd 1-22)");
  const gzip = attrs.compression === undefined || attrs.compression === "gzip";
  if (level !== undefined && gzip && !isGzipLevel(Number(level))) throw usage(`compression-level="${level}" in ${flag} is out of range for gzip`, GZIP_LEVEL_HINT);
  oneOf("force-compression", ["true", "false"], "use force-compression=true or force-compression=false");
  oneOf("oci-mediatypes", ["true"], "kitbuild's cache always uses OCI media types");
  oneOf("image-manifest", ["true"], "kitbuild's cache is always an image manifest");
  const max = attrs["max-entries"];
  if (max !== undefined && !/^[1-9]\d*$/.test(max)) throw usage(`invalid max-entries="${max}" in ${flag}`, "use a positive number of steps to keep (the newest are kept)");
}
