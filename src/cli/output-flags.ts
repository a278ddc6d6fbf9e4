// `-o/--output`, `-t/--tag`, `--push` and `--load` as docker buildx reads them:
// `type=local,dest=DIR`, `type=tar,dest=FILE|-`, `type=oci,dest=FILE|-[,tar=false]`,
// `type=docker[,dest=FILE|-|,context=NAME][,name=…]`, `type=image,name=REF[,push=true]`, `type=registry,name=REF`
// (registry.insecure, push-by-digest, name-canonical), `platform-split` of local and tar, the
// shorthands `DIR` and `-`, and the image options (compression, oci-mediatypes, annotation.*…).
import { defaultImageOptions, type ImageOptions, type OutputSpec, type RegistryPushOptions } from "../exporter/image-options.ts";
import { parseReference } from "../registry/reference.ts";
import { KitError } from "../util/errors.ts";
import { GZIP_LEVEL_HINT, isGzipLevel } from "../exporter/compress-chunk.ts";

const usage = (message: string, hint: string) => new KitError("E_USAGE", message, { hint });

export type OutputFlags = { outputs: string[]; tags: string[]; push: boolean; load: boolean };

export function parseOutputs(flags: OutputFlags): OutputSpec[] {
  const outputs = flags.outputs.map((o) => parseOutput(o, flags.tags));
  if (flags.push) outputs.push({ type: "image", push: true, ...defaultImageOptions("image"), names: flags.tags });
  if (flags.load) outputs.push({ type: "docker", dest: "", load: true, ...defaultImageOptions("docker"), names: flags.tags });
  for (const o of outputs) {
    if (o.type === "image" && o.push && o.names.length === 0) {
      throw usage("pushing needs an image name", "add -t NAME (or name=NAME to the output)");
    }
  }
  if (outputs.filter((o) => "dest" in o && o.dest === "-").length > 1) throw usage("only one output can be written to stdout", "send the others to files");
  return outputs;
}

export function parseOutput(spec: string, tags: string[] = []): OutputSpec {
  if (!spec.includes("=")) return spec === "-" ? { type: "tar", dest: "-" } : { type: "local", dest: spec };
  const fields = new Map<string, string>();
  for (const part of splitCsv(spec)) {
    const eq = part.indexOf("=");
    if (eq < 0) throw usage(`invalid output field "${part}" in "${spec}"`, "write outputs as type=local,dest=DIR");
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1));
  }
  const type = fields.get("type") ?? "local";
  fields.delete("type");
  const dest = fields.get("dest");
  fields.delete("dest");
  switch (type) {
    case "local":
    case "tar": {
      if (!dest) throw usage(`output "${spec}" has no dest`, `add dest=, e.g. type=${type},dest=${type === "local" ? "out" : "out.tar"}`);
      if (type === "local" && dest === "-") throw usage("type=local cannot write to stdout", "use type=tar,dest=- for a tarball on stdout");
      const split = fields.has("platform-split") ? { platformSplit: bool(fields, "platform-split", false) } : {};
      refuseUnknown(fields, spec, []);
      return { type, dest, ...split };
    }
    case "oci": {
      if (!dest) throw usage(`output "${spec}" has no dest`, "add dest=, e.g. type=oci,dest=image.tar");
      const tar = bool(fields, "tar", true);
      return { type, dest, tar, ...imageOptions(fields, "oci", tags, spec) };
    }
    case "docker": {
      const context = fields.get("context");
      fields.delete("context");
      if (context !== undefined && dest) throw usage(`output "${spec}" has both dest and context`, "context= names the docker context to load into: drop dest= to load, or context= to write a file");
      return { type, dest: dest ?? "", load: !dest, ...(context ? { context } : {}), ...imageOptions(fields, "docker", tags, spec) };
    }
    case "image":
    case "registry": {
      const push = type === "registry" || bool(fields, "push", false);
      const pushOpts = registryPushOptions(fields);
      return { type: "image", push, ...pushOpts, ...imageOptions(fields, "image", tags, spec) };
    }
    default:
      throw usage(`unknown output type "${type}"`, "use local, tar, oci, docker, image or registry");
  }
}

/** registry.insecure, push-by-digest and name-canonical, set only when given. */
function registryPushOptions(fields: Map<string, string>): RegistryPushOptions {
  const opts: RegistryPushOptions = {};
  for (const [key, field] of [["registry.insecure", "insecure"], ["push-by-digest", "pushByDigest"], ["name-canonical", "nameCanonical"]] as const) {
    if (fields.has(key)) opts[field] = bool(fields, key, false);
  }
  return opts;
}

function imageOptions(fields: Map<string, string>, type: "oci" | "docker" | "image", tags: string[], spec: string): ImageOptions {
  const opts = defaultImageOptions(type);
  const names = fields.get("name");
  fields.delete("name");
  opts.names = names ? names.split(",").map((n) => n.trim()).filter(Boolean) : [...tags];
  for (const n of opts.names) parseReference(n);
  const compression = fields.get("compression");
  fields.delete("compression");
  if (compression !== undefined) {
    if (compression === "estargz") throw usage("compression=estargz is not supported", "use compression=gzip or compression=zstd (lazy pulling of eStargz layers is not supported)");
    if (compression !== "gzip" && compression !== "zstd" && compression !== "uncompressed") {
      throw usage(`invalid compression "${compression}"`, "use gzip, zstd or uncompressed");
    }
    opts.compression = compression;
  }
  const level = fields.get("compression-level");
  fields.delete("compression-level");
  if (level !== undefined) {
    if (!/^-?\d+$/.test(level)) throw usage(`invalid compression-level "${level}"`, "give a number (gzip 0-9, zstd 1-22)");
    opts.compressionLevel = Number(level);
    if (opts.compression === "gzip" && !isGzipLevel(opts.compressionLevel)) throw usage(`compression-level ${level} is out of range for gzip`, GZIP_LEVEL_HINT);
  }
  opts.forceCompression = bool(fields, "force-compression", false);
  opts.ociMediaTypes = bool(fields, "oci-mediatypes", opts.ociMediaTypes);
  opts.rewriteTimestamp = bool(fields, "rewrite-timestamp", false);
  if (bool(fields, "oci-artifact", false)) opts.ociArtifact = true;
  const dangling = fields.get("dangling-name-prefix");
  fields.delete("dangling-name-prefix");
  if (dangling) opts.danglingNamePrefix = danglingPrefix(dangling, spec);
  for (const [k, v] of [...fields]) {
    const m = /^annotation(-manifest|-index|-manifest-descriptor|-index-descriptor)?(\[[^\]]*\])?\.(.+)$/.exec(k);
    if (!m) continue;
    if (m[2]) throw usage(`platform-qualified annotation "${k}" is not supported yet`, "kitbuild builds one platform: drop the [PLATFORM] part");
    annotationTarget(opts, m[1])[m[3] as string] = v;
    fields.delete(k);
  }
  refuseUnknown(fields, spec, ["push", "tar"]);
  return opts;
}

/** Where an `annotation<-TYPE>.KEY` attribute goes (no type: the manifest, as BuildKit). */
export function annotationTarget(opts: ImageOptions, suffix: string | undefined): Record<string, string> {
  if (suffix === "-index") return (opts.indexAnnotations ??= {});
  if (suffix === "-manifest-descriptor") return (opts.manifestDescriptorAnnotations ??= {});
  if (suffix === "-index-descriptor") return (opts.indexDescriptorAnnotations ??= {});
  return opts.annotations;
}

/** The prefix must make "PREFIX@sha256:…" a reference (BuildKit fails the export otherwise; kitbuild before the build). */
function danglingPrefix(prefix: string, spec: string): string {
  try {
    parseReference(`${prefix}@sha256:${"0".repeat(64)}`);
  } catch {
    throw usage(`invalid dangling-name-prefix "${prefix}" in output "${spec}"`, "give an image name without tag or digest, e.g. dangling-name-prefix=scratch-builds");
  }
  return prefix;
}

function bool(fields: Map<string, string>, key: string, dflt: boolean): boolean {
  const v = fields.get(key);
  fields.delete(key);
  if (v === undefined || v === "") return v === "" ? true : dflt;
  if (/^(true|1)$/i.test(v)) return true;
  if (/^(false|0)$/i.test(v)) return false;
  throw usage(`invalid value "${v}" for ${key}`, "use true or false");
}

function refuseUnknown(fields: Map<string, string>, spec: string, allowed: string[]): void {
  const unknown = [...fields.keys()].filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw usage(`unknown option "${unknown[0]}" in output "${spec}"`, "see kitbuild build --help for the output options");
}

/** Comma-separated fields where double quotes protect commas (as docker's csv flags). */
export function splitCsv(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    if (ch === '"') {
      if (quoted && s[i + 1] === '"') {
        cur += '"';
        i++;
      } else quoted = !quoted;
    } else if (ch === "," && !quoted) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.filter((p) => p !== "");
}
