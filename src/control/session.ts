// One build's state shared by its op runners: the environment, the context directory, the target
// platform, image resolutions (a tag is resolved once per build, in kitbuild's image store first
// unless --pull), and what RUN steps share (secrets, ssh agents, entitlements, cache mounts).
import { readdirSync } from "node:fs";
import { DirectoryListings } from "../cache/dir-listings.ts";
import { FileHashMemo, memoFile } from "../cache/file-hashes.ts";
import { randomHex } from "../util/random.ts";
import type { EntryDigest, ListDirectory, SourceDigests } from "../file/source-tree.ts";
import type { LocalContext } from "../source/local.ts";
import type { Definition } from "../llb/ops.ts";
import { CacheExplainer } from "./cache-explain.ts";
import { formatPlatform } from "../oci/platform.ts";
import type { Platform } from "../oci/types.ts";
import { formatReference, type Reference } from "../registry/reference.ts";
import type { ResolvedImage, ResolveMode } from "../source/image.ts";
import type { ExecServices } from "../worker/session/exec-services.ts";
import type { BuildEnvironment } from "./environment.ts";

/** What a build remembers of one context directory, and the functions its walks are given. */
type ContextMemos = { hashes: FileHashMemo; listings: DirectoryListings; entryDigest: EntryDigest; listDirectory: ListDirectory };

export class BuildSession {
  readonly id = randomHex(8);
  private readonly resolved = new Map<string, Promise<ResolvedImage>>();
  /** The hash memo and the directory listings of each context directory read, loaded on its first look-up. */
  private readonly memos = new Map<string, ContextMemos>();
  /** Records what cache keys were made of, and explains misses (--debug-cache). */
  readonly explainer: CacheExplainer;
  /** What git and http sources resolved to (identifier → "sha1:commit" or the download's digest), for provenance. */
  readonly sourceDigests = new Map<string, string>();
  /** The graph being solved, once the frontend has produced it. */
  definition: Definition | undefined;

  constructor(
    readonly env: BuildEnvironment,
    readonly contextDir: string,
    readonly platform: Platform,
    private readonly signal: AbortSignal,
    readonly exec: ExecServices,
    /** "pull" (--pull): tags are always resolved in the registry, never in kitbuild's image store. */
    private readonly resolveMode: ResolveMode = "local",
  ) {
    this.explainer = new CacheExplainer(env.index, env.store, contextDir, (d) => this.definition?.metadata[d]?.name ?? "");
  }

  /**
   * A context entry's checksum digest, computed only when the entry changed since it was last
   * hashed. Any change to its mode, owner or xattrs moves ctime, so the memo vouches for the whole
   * entry, not just its content (and spares listing xattrs of unchanged files).
   */
  entryDigestFor(dir: string): EntryDigest {
    return this.memosOf(dir).entryDigest;
  }

  /** A context directory's names, read only when the directory changed since they were last read (cache/dir-listings.ts). */
  listDirectoryFor(dir: string): ListDirectory {
    return this.memosOf(dir).listDirectory;
  }

  private memosOf(dir: string): ContextMemos {
    let memos = this.memos.get(dir);
    if (!memos) {
      const hashes = new FileHashMemo(this.env.root, dir);
      const listings = new DirectoryListings(`${memoFile(this.env.root, dir)}.dirs`, dir, `${this.env.root}/tmp/context-listings-${process.pid}`);
      memos = {
        hashes,
        listings,
        entryDigest: (host, st, compute) => {
          const known = hashes.get(host, st);
          if (known) return known;
          const digest = compute(host, st);
          hashes.set(host, st, digest, Date.now());
          return digest;
        },
        listDirectory: (host, st) => listings.names(host, st, () => readdirSync(host).sort(), Date.now()),
      };
      this.memos.set(dir, memos);
    }
    return memos;
  }

  private contextChecksums = new WeakMap<LocalContext, SourceDigests>();

  /** What this build has checksummed of a context so far: it is read once per build, as BuildKit transfers it once. */
  sourceDigestsOf(context: LocalContext): SourceDigests {
    let digests = this.contextChecksums.get(context);
    if (!digests) this.contextChecksums.set(context, (digests = new Map()));
    return digests;
  }

  /**
   * Saves what this build learned; called once the solve ends, whatever its outcome. What the
   * context's checksums kept per file (tens of MB for a large context) is let go before the export.
   */
  close(): void {
    for (const { hashes, listings } of this.memos.values()) {
      hashes.flush();
      listings.flush();
    }
    this.memos.clear();
    this.explainer.release();
    this.contextChecksums = new WeakMap();
  }

  resolveImage(ref: Reference, platform: Platform): Promise<ResolvedImage> {
    const key = `${formatReference(ref)} ${formatPlatform(platform)}`;
    let p = this.resolved.get(key);
    if (!p) {
      p = this.env.images.resolve(ref, platform, this.signal, this.resolveMode);
      this.resolved.set(key, p);
      // A pinned reference resolves to the same image: remember it under that name too.
      p.then((img) => this.resolved.set(`${formatReference(img.ref)} ${formatPlatform(platform)}`, p as Promise<ResolvedImage>)).catch(() => {});
    }
    return p;
  }
}
