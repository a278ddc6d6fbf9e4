// The exporters of the result's filesystem: `type=local` (a directory) and `type=tar` (one
// archive, to a file or stdout), both reading a read-only view of the root snapshot.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
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

/** The attestations a filesystem output writes: those asked for (not the default provenance of pushed images). */
const asked = (ctx: ExportContext) => (ctx.input.attestations ?? []).filter((a) => !a.pushedOnly && !a.inlineOnly);

export const localExporter: Exporter<Extract<OutputSpec, { type: "local" }>> = {
  title: "exporting to client directory",
  export: (out, ctx) =>
    withRootfs(ctx, out.dest, async (rootfs) => {
      await exportLocal(rootfs, out.dest, ctx.progress, ctx.signal);
      // The attestations beside the files they describe, as BuildKit's local exporter writes them.
      for (const f of await attestationFiles(asked(ctx), rootfs, ctx.signal)) writeFileSync(`${out.dest}/${f.name}`, f.bytes, { mode: 0o644 });
    }),
};

export const tarExporter: Exporter<Extract<OutputSpec, { type: "tar" }>> = {
  title: "exporting to client tarball",
  export: (out, ctx) =>
    withRootfs(ctx, out.dest, async (rootfs) => {
      const files = await attestationFiles(asked(ctx), rootfs, ctx.signal);
      await exportTar(rootfs, out.dest, ctx.input.stdout, ctx.progress, ctx.signal, files);
    }),
};
