// What a provenance predicate reads from a build's graph, as BuildKit's provenance capture records
// it while solving: the images, git repositories and URLs the build used (its materials), the
// secrets and ssh agents its steps asked for (ids only), its local sources, and whether any step
// could reach the network. Pure: the graph is data.
import type { Definition, SourceOp } from "../llb/ops.ts";
import type { Platform } from "../oci/types.ts";
import { imagePurl } from "../exporter/purl.ts";
import { parseReference, formatReference } from "../registry/reference.ts";

export type Material = { uri: string; digest: Record<string, string> };
export type SessionUse = { id: string; optional: boolean };

export type CapturedSources = {
  materials: Material[];
  secrets: SessionUse[];
  ssh: SessionUse[];
  locals: string[];
  networkAccess: boolean;
  /** Some material's digest is not known from the graph (a git ref or URL without a checksum). */
  incompleteMaterials: boolean;
};

const byKey = <T>(key: (t: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/** How a git or http source's resolved digest is remembered: its address and, for git, the ref. */
export function sourceKey(op: SourceOp): string {
  return op.attrs.ref ? `${op.identifier}#${op.attrs.ref}` : op.identifier;
}

/** `resolved`: what the sources resolved to while solving ("sha1:commit", "sha256:…"), by sourceKey. */
export function captureSources(def: Definition, resolved: ReadonlyMap<string, string> = new Map()): CapturedSources {
  const images = new Map<string, Material>();
  const git = new Map<string, Material>();
  const http = new Map<string, Material>();
  const secrets = new Map<string, SessionUse>();
  const ssh = new Map<string, SessionUse>();
  const locals = new Set<string>();
  let networkAccess = false;
  let incompleteMaterials = false;
  for (const { vertex } of def.vertices) {
    const op = vertex.op;
    if (op.kind === "source") {
      const id = op.identifier;
      if (id.startsWith("docker-image://")) {
        const m = imageMaterial(id.slice("docker-image://".length), op.platform);
        if (m) images.set(m.uri, m);
      } else if (id.startsWith("local://")) locals.add(id.slice("local://".length));
      else if (id.startsWith("git://") || id.startsWith("git+")) {
        const uri = gitUri(id, op.attrs.ref);
        const commit = resolved.get(sourceKey(op))?.replace(/^sha1:/, "") ?? (op.attrs.checksum?.length === 40 ? op.attrs.checksum : undefined);
        if (!commit) incompleteMaterials = true;
        git.set(uri, { uri, digest: commit ? { sha1: commit } : {} });
      } else if (id.startsWith("https://") || id.startsWith("http://")) {
        const sum = resolved.get(sourceKey(op)) ?? op.attrs.checksum;
        if (!sum) incompleteMaterials = true;
        http.set(id, { uri: id, digest: sum ? { [sum.split(":")[0] as string]: sum.split(":")[1] as string } : {} });
      }
    } else if (op.kind === "exec") {
      if (op.network !== "none") networkAccess = true;
      for (const m of op.mounts) {
        if (m.secret) secrets.set(m.secret.id, { id: m.secret.id, optional: m.secret.optional && (secrets.get(m.secret.id)?.optional ?? true) });
        if (m.ssh) ssh.set(m.ssh.id, { id: m.ssh.id, optional: m.ssh.optional && (ssh.get(m.ssh.id)?.optional ?? true) });
      }
      for (const s of op.secretEnv ?? []) secrets.set(s.id, { id: s.id, optional: s.optional && (secrets.get(s.id)?.optional ?? true) });
    }
  }
  const sorted = (m: Map<string, Material>) => [...m.values()].sort(byKey((x) => x.uri));
  return {
    materials: [...sorted(images), ...sorted(git), ...sorted(http)],
    secrets: [...secrets.values()].sort(byKey((s) => s.id)),
    ssh: [...ssh.values()].sort(byKey((s) => s.id)),
    locals: [...locals].sort(),
    networkAccess,
    incompleteMaterials,
  };
}

/** An image pinned by the frontend ("NAME[:TAG]@sha256:…"): its package URL and that digest. */
function imageMaterial(pinned: string, platform: Platform | undefined): Material | undefined {
  const ref = parseReference(pinned);
  if (!ref.digest) return undefined;
  const [alg, hex] = ref.digest.split(":") as [string, string];
  return { uri: imagePurl(formatReference(ref), platform), digest: { [alg]: hex } };
}

/** A git source as BuildKit names it: the remote, then "#" and the ref when one was asked for. */
function gitUri(identifier: string, ref: string | undefined): string {
  const remote = identifier.startsWith("git+") ? identifier.slice(4) : identifier;
  return ref ? `${remote}#${ref}` : remote;
}
