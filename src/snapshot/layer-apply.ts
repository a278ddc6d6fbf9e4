// Applies an OCI/Docker layer (a tar stream, any compression) onto a directory holding the layers
// below it (a whole tree, or a mounted overlay). Every entry is resolved inside the directory: `..`
// and absolute names are refused, symlinks met on the way are followed in-root, and hardlinks must
// point inside it. Whiteouts delete what they name; an opaque marker empties its directory of what
// earlier layers put there.
import { createReadStream, lchownSync, linkSync, mkdirSync, readdirSync, rmSync, symlinkSync, chmodSync, type BigIntStats } from "node:fs";
import { open } from "node:fs/promises";
import { posix } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createZstdDecompress } from "node:zlib";
import { extract as tarExtract, type Header as TarHeader } from "tar-stream";
import type { LayerCompression } from "../oci/media-types.ts";
import type { Digest } from "../oci/types.ts";
import { canceledError } from "../util/abort.ts";
import { lstatOrUndefined } from "../util/copy-tree.ts";
import { KitError, wrapError } from "../util/errors.ts";
import { inRootPath } from "../util/fs-safe.ts";
import { lsetxattr, lutimesNs, makedev, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from "../util/libc.ts";

const WHITEOUT_PREFIX = ".wh.";
const OPAQUE_MARKER = ".wh..wh..opq";

export type ApplyOptions = {
  /** Keep the uid/gid of each entry (root); otherwise everything belongs to the caller. */
  preserveOwner: boolean;
  signal: AbortSignal;
};

export type ApplyResult = { diffId: Digest; size: number };

/** Applies the layer blob at `blobPath` onto `dir`; returns the digest of the uncompressed tar. */
export async function applyLayerFile(
  blobPath: string,
  compression: LayerCompression,
  dir: string,
  opts: ApplyOptions,
): Promise<ApplyResult> {
  const stages: Array<NodeJS.ReadableStream | NodeJS.ReadWriteStream> = [createReadStream(blobPath)];
  if (compression === "gzip") stages.push(createGunzip());
  if (compression === "zstd") stages.push(createZstdDecompress());
  return applyLayerStream(stages, dir, opts);
}

async function applyLayerStream(
  stages: Array<NodeJS.ReadableStream | NodeJS.ReadWriteStream>,
  dir: string,
  opts: ApplyOptions,
): Promise<ApplyResult> {
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hasher.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  const extract = tarExtract();
  const flowing = (pipeline as (...args: unknown[]) => Promise<void>)(...stages, tap, extract, { signal: opts.signal });
  flowing.catch(() => {}); // reported below, after the entries
  const applier = new Applier(dir, opts);
  try {
    for await (const entry of extract) {
      if (opts.signal.aborted) throw canceledError(opts.signal);
      await applier.entry(entry.header as Header, entry as AsyncIterable<Buffer>);
    }
    await flowing;
  } catch (e) {
    extract.destroy();
    if (opts.signal.aborted) throw canceledError(opts.signal);
    throw wrapError(e, "E_LAYER_INVALID", "failed to apply layer", "the layer blob is not a valid tar archive");
  }
  applier.finish();
  return { diffId: `sha256:${hasher.digest("hex")}`, size };
}

/** A tar header with its PAX records (tar-stream types them loosely). */
type Header = TarHeader & { pax?: Record<string, string> | null };

class Applier {
  private readonly dirs: Array<{ path: string; header: Header }> = [];
  /** Paths written by this layer: an opaque marker must not delete them. */
  private readonly written = new Set<string>();

  constructor(
    private readonly root: string,
    private readonly opts: ApplyOptions,
  ) {}

  async entry(header: Header, body: AsyncIterable<Buffer>): Promise<void> {
    const name = cleanEntryName(header.name);
    if (name === undefined) return drain(body);
    const base = posix.basename(name);
    const parent = inRootPath(this.root, posix.dirname(name), true);
    if (base.startsWith(WHITEOUT_PREFIX)) {
      this.whiteout(parent, base);
      return drain(body);
    }
    this.ensureParent(parent);
    const rel = parent === "/" ? `/${base}` : `${parent}/${base}`;
    const path = this.root + rel;
    this.written.add(rel);
    switch (header.type) {
      case "directory":
        return this.directory(path, header, body);
      case "file":
      case "contiguous-file":
        await this.file(path, header, body);
        break;
      case "symlink":
        this.replace(path);
        symlinkSync(header.linkname ?? "", path);
        break;
      case "link":
        this.hardlink(path, header);
        return drain(body);
      case "character-device":
      case "block-device":
      case "fifo":
        this.special(path, header);
        break;
      default:
        return drain(body); // pax and GNU headers are consumed by the parser; others carry nothing
    }
    this.metadata(path, header);
  }

  private whiteout(parent: string, base: string): void {
    const parentPath = this.root + (parent === "/" ? "" : parent);
    if (base === OPAQUE_MARKER) {
      this.clearDirExceptWritten(parent);
      return;
    }
    if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return; // aufs metadata, not a deletion
    rmSync(`${parentPath}/${base.slice(WHITEOUT_PREFIX.length)}`, { recursive: true, force: true });
  }

  private clearDirExceptWritten(parent: string): void {
    const parentPath = this.root + (parent === "/" ? "" : parent);
    for (const child of safeReaddir(parentPath)) {
      const rel = `${parent === "/" ? "" : parent}/${child}`;
      if (!this.written.has(rel)) rmSync(`${parentPath}/${child}`, { recursive: true, force: true });
    }
  }

  /** Creates missing parent directories (a layer may omit them) as root-owned 0755. */
  private ensureParent(parent: string): void {
    if (parent === "/") return;
    const path = this.root + parent;
    const st = lstatOrUndefined(path);
    if (st?.isDirectory()) return;
    if (st) rmSync(path, { force: true });
    mkdirSync(path, { recursive: true, mode: 0o755 });
  }

  private replace(path: string): BigIntStats | undefined {
    const st = lstatOrUndefined(path);
    if (st) rmSync(path, { recursive: true, force: true });
    return st;
  }

  private async directory(path: string, header: Header, body: AsyncIterable<Buffer>): Promise<void> {
    const st = lstatOrUndefined(path);
    if (st && !st.isDirectory()) rmSync(path, { force: true });
    if (!st?.isDirectory()) mkdirSync(path, { mode: 0o700 });
    this.dirs.push({ path, header });
    this.ownerAndXattrs(path, header);
    await drain(body);
  }

  private async file(path: string, header: Header, body: AsyncIterable<Buffer>): Promise<void> {
    this.replace(path);
    const fh = await open(path, "wx", 0o600);
    try {
      for await (const chunk of body) await fh.write(chunk);
    } finally {
      await fh.close();
    }
  }

  private hardlink(path: string, header: Header): void {
    const targetName = cleanEntryName(header.linkname ?? "");
    if (targetName === undefined) throw unsafe(header.linkname ?? "", "a hardlink target outside the layer root");
    const target = this.root + inRootPath(this.root, targetName, false);
    const st = lstatOrUndefined(target);
    if (!st || st.isDirectory()) {
      throw new KitError("E_LAYER_INVALID", `hardlink "${header.name}" points at "${header.linkname}", which is not a file in the layer`);
    }
    this.replace(path);
    linkSync(target, path);
  }

  private special(path: string, header: Header): void {
    this.replace(path);
    const perm = (header.mode ?? 0) & 0o7777;
    if (header.type === "fifo") mknod(path, S_IFIFO | perm, 0n);
    else {
      const kind = header.type === "block-device" ? S_IFBLK : S_IFCHR;
      mknod(path, kind | perm, makedev(header.devmajor ?? 0, header.devminor ?? 0));
    }
  }

  private ownerAndXattrs(path: string, header: Header): void {
    if (this.opts.preserveOwner) lchownSync(path, paxNumber(header, "uid") ?? header.uid ?? 0, paxNumber(header, "gid") ?? header.gid ?? 0);
    for (const [key, value] of Object.entries(header.pax ?? {})) {
      if (key.startsWith("SCHILY.xattr.")) lsetxattr(path, key.slice(13), Buffer.from(value, "latin1"));
    }
  }

  private metadata(path: string, header: Header): void {
    this.ownerAndXattrs(path, header);
    if (header.type !== "symlink") chmodSync(path, (header.mode ?? 0o644) & 0o7777);
    const mtime = entryMtimeNs(header);
    lutimesNs(path, mtime, mtime);
  }

  /** Directory modes and times last, since adding entries changes them. */
  finish(): void {
    for (const { path, header } of this.dirs.reverse()) {
      chmodSync(path, (header.mode ?? 0o755) & 0o7777);
      const mtime = entryMtimeNs(header);
      lutimesNs(path, mtime, mtime);
    }
  }
}

/** A tar entry name made relative and clean, undefined for the root itself; unsafe names throw. */
export function cleanEntryName(raw: string): string | undefined {
  if (raw.startsWith("/")) throw unsafe(raw, "an absolute path");
  const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw unsafe(raw, "a \"..\" component");
  return parts.length === 0 ? undefined : parts.join("/");
}

function unsafe(name: string, what: string): KitError {
  return new KitError("E_LAYER_UNSAFE_PATH", `layer entry "${name}" has ${what}`, {
    hint: "the image layer is malformed or malicious; kitbuild refuses to extract outside the root",
  });
}

function paxNumber(header: Header, key: string): number | undefined {
  const v = header.pax?.[key];
  return v === undefined ? undefined : Number(v);
}

export function entryMtimeNs(header: Header): bigint {
  const pax = header.pax?.mtime;
  if (pax && /^\d+(\.\d+)?$/.test(pax)) {
    const [sec, frac = ""] = pax.split(".");
    return BigInt(sec as string) * 1_000_000_000n + BigInt((frac + "000000000").slice(0, 9));
  }
  return BigInt(header.mtime?.getTime() ?? 0) * 1_000_000n;
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

async function drain(body: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of body) {
    // discard
  }
}
