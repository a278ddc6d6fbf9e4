// The exporters of the result's filesystem: `type=local` (a directory) and `type=tar` (one
// archive, to a file or stdout), both reading a read-only view of the root snapshot; with
// `platform-split=true` (the default with several platforms) the files go under the platform's
// directory ("linux_amd64/"), the attestations beside them; without it every platform's files
// go into one tree, where no two platforms may have the same file.
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { formatPlatform } from "../oci/platform.ts";
import type { Platform } from "../oci/types.ts";
import { isNoSpace, writeFailure } from "../util/write-errors.ts";
import { type AttestationFile, attestationFiles } from "./attestation-files.ts";
import type { ExportContext, Exporter, PlatformResult } from "./exporter.ts";
import { checkNoOverlap } from "./platform-merge.ts";
import type { OutputSpec } from "./image-options.ts";
import { exportLocal } from "./local.ts";
import { exportTar } from "./tar.ts";

/**
 * Runs `write` on read-only views of every platform's result (undefined: an empty filesystem), in
 * the order of `ctx.input.results`; a full destination says how much the results take.
 */
async function withRootfs(ctx: ExportContext, dest: string, write: (rootfs: Array<string | undefined>) => Promise<void>): Promise<undefined> {
  const mounts: Array<AsyncDisposable | undefined> = [];
  try {
    const paths: Array<string | undefined> = [];
    for (const r of ctx.input.results) {
      const mounted = r.root === null ? undefined : await ctx.services.snapshotter.mountReadonly(r.root);
      mounts.push(mounted);
      paths.push(mounted?.path);
    }
    try {
      await write(paths);
    } catch (e) {
      if (!isNoSpace(e) || dest === "-") throw e;
      let needed: number | undefined = 0;
      for (const r of ctx.input.results) {
        const size = await resultSize(ctx, r.root);
        needed = size === undefined || needed === undefined ? undefined : needed + size;
      }
      throw writeFailure(e, { path: resolve(dest), area: "output", needed });
    }
  } finally {
    for (const m of mounts.reverse()) await m?.[Symbol.asyncDispose]();
  }
  return undefined;
}

/** About what the result takes on disk: the sum of its layers (an overestimate where layers replace files). */
async function resultSize(ctx: ExportContext, id: number | null): Promise<number | undefined> {
  if (id === null) return 0;
  try {
    let total = 0;
    for (const layer of ctx.services.snapshotter.layers(id)) total += await ctx.services.snapshotter.diskUsage(layer);
    return total;
  } catch {
    return undefined;
  }
}

/**
 * The directory a platform's files go under with `platform-split=true`, as BuildKit names it
 * ("linux_amd64", "linux_arm_v7"); none without it. A build of one platform is not split unless
 * asked (BuildKit's default); one of several platforms will be unless `platform-split=false`.
 */
export function platformSplitDir(out: { platformSplit?: boolean }, platform: Platform, platformCount = 1): string | undefined {
  const split = out.platformSplit ?? platformCount > 1;
  return split ? formatPlatform(platform).replaceAll("/", "_") : undefined;
}

/** The attestations a filesystem output writes: those asked for (not the default provenance of pushed images). */
const asked = (r: PlatformResult) => (r.attestations ?? []).filter((a) => !a.pushedOnly && !a.inlineOnly);

/** What one platform writes: its files, under its directory when split, and its attestations beside them. */
type PlatformPart = { rootfs: string | undefined; sub: string | undefined; files: AttestationFile[]; platform: string };

async function platformParts(out: { platformSplit?: boolean }, ctx: ExportContext, rootfs: Array<string | undefined>): Promise<PlatformPart[]> {
  const { results } = ctx.input;
  const parts: PlatformPart[] = [];
  for (const [i, r] of results.entries()) {
    const sub = platformSplitDir(out, r.platform, results.length);
    const made = await attestationFiles(asked(r), rootfs[i], ctx.signal);
    // Several platforms in one tree: each one's attestations named after it ("provenance.linux_arm64.json"), as BuildKit's fix (moby/buildkit#6051).
    const files = results.length > 1 && sub === undefined ? made.map((f) => ({ ...f, name: withPlatformTag(f.name, r.platform) })) : made;
    parts.push({ rootfs: rootfs[i], sub, files, platform: formatPlatform(r.platform) });
  }
  // Several platforms in one tree: a file may come from one platform only (BuildKit's rule).
  if (results.length > 1 && parts.some((p) => p.sub === undefined)) await checkNoOverlap(parts, ctx.signal);
  return parts;
}

function withPlatformTag(name: string, platform: Platform): string {
  const tag = formatPlatform(platform).replaceAll("/", "_");
  const dot = name.lastIndexOf(".");
  return dot > 0 ? `${name.slice(0, dot)}.${tag}${name.slice(dot)}` : `${name}.${tag}`;
}

export const localExporter: Exporter<Extract<OutputSpec, { type: "local" }>> = {
  title: "exporting to client directory",
  export: (out, ctx) =>
    withRootfs(ctx, out.dest, async (rootfs) => {
      for (const part of await platformParts(out, ctx, rootfs)) {
        const dest = part.sub ? join(out.dest, part.sub) : out.dest;
        await exportLocal(part.rootfs, dest, ctx.progress, ctx.signal);
        // The attestations beside the files they describe, as BuildKit's local exporter writes them.
        for (const f of part.files) writeFileSync(`${dest}/${f.name}`, f.bytes, { mode: 0o644 });
      }
    }),
};

export const tarExporter: Exporter<Extract<OutputSpec, { type: "tar" }>> = {
  title: "exporting to client tarball",
  export: (out, ctx) =>
    withRootfs(ctx, out.dest, async (rootfs) => {
      const parts = await platformParts(out, ctx, rootfs);
      await exportTar(parts.map((p) => ({ rootfs: p.rootfs, ...(p.sub ? { prefix: p.sub } : {}), extra: p.files })), out.dest, ctx.input.stdout, ctx.progress, ctx.signal);
    }),
};
