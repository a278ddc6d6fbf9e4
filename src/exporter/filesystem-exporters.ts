// The exporters of the result's filesystem: `type=local` (a directory) and `type=tar` (one
// archive, to a file or stdout), both reading a read-only view of the root snapshot; with
// `platform-split=true` the files go under the platform's directory ("linux_amd64/"), the
// attestations beside them.
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { formatPlatform } from "../oci/platform.ts";
import type { Platform } from "../oci/types.ts";
import { isNoSpace, writeFailure } from "../util/write-errors.ts";
import { attestationFiles } from "./attestation-files.ts";
import type { ExportContext, Exporter } from "./exporter.ts";
import type { OutputSpec } from "./image-options.ts";
import { exportLocal } from "./local.ts";
import { exportTar } from "./tar.ts";

/** Runs `write` on a read-only view of the result (undefined: an empty filesystem); a full destination says how much the result takes. */
async function withRootfs(ctx: ExportContext, dest: string, write: (rootfs: string | undefined) => Promise<void>): Promise<undefined> {
  const id = ctx.input.root;
  await using mounted = id === null ? undefined : await ctx.services.snapshotter.mountReadonly(id);
  try {
    await write(mounted?.path);
  } catch (e) {
    if (!isNoSpace(e) || dest === "-") throw e;
    throw writeFailure(e, { path: resolve(dest), area: "output", needed: await resultSize(ctx, id) });
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
const asked = (ctx: ExportContext) => (ctx.input.attestations ?? []).filter((a) => !a.pushedOnly && !a.inlineOnly);

export const localExporter: Exporter<Extract<OutputSpec, { type: "local" }>> = {
  title: "exporting to client directory",
  export: (out, ctx) => {
    const sub = platformSplitDir(out, ctx.input.platform);
    const dest = sub ? join(out.dest, sub) : out.dest;
    return withRootfs(ctx, out.dest, async (rootfs) => {
      await exportLocal(rootfs, dest, ctx.progress, ctx.signal);
      // The attestations beside the files they describe, as BuildKit's local exporter writes them.
      for (const f of await attestationFiles(asked(ctx), rootfs, ctx.signal)) writeFileSync(`${dest}/${f.name}`, f.bytes, { mode: 0o644 });
    });
  },
};

export const tarExporter: Exporter<Extract<OutputSpec, { type: "tar" }>> = {
  title: "exporting to client tarball",
  export: (out, ctx) =>
    withRootfs(ctx, out.dest, async (rootfs) => {
      const files = await attestationFiles(asked(ctx), rootfs, ctx.signal);
      await exportTar(rootfs, out.dest, ctx.input.stdout, ctx.progress, ctx.signal, platformSplitDir(out, ctx.input.platform), files);
    }),
};
