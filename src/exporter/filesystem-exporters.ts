// The exporters of the result's filesystem: `type=local` (a directory) and `type=tar` (one
// archive, to a file or stdout), both reading a read-only view of the root snapshot.
import type { ExportContext, Exporter } from "./exporter.ts";
import type { OutputSpec } from "./image-options.ts";
import { exportLocal } from "./local.ts";
import { exportTar } from "./tar.ts";

/** Runs `write` on a read-only view of the result (undefined: an empty filesystem). */
async function withRootfs(ctx: ExportContext, write: (rootfs: string | undefined) => Promise<void>): Promise<undefined> {
  const id = ctx.input.root;
  await using mounted = id === null ? undefined : await ctx.services.snapshotter.mountReadonly(id);
  await write(mounted?.path);
  return undefined;
}

export const localExporter: Exporter<Extract<OutputSpec, { type: "local" }>> = {
  title: "exporting to client directory",
  export: (out, ctx) => withRootfs(ctx, (rootfs) => exportLocal(rootfs, out.dest, ctx.progress, ctx.signal)),
};

export const tarExporter: Exporter<Extract<OutputSpec, { type: "tar" }>> = {
  title: "exporting to client tarball",
  export: (out, ctx) => withRootfs(ctx, (rootfs) => exportTar(rootfs, out.dest, ctx.input.stdout, ctx.progress, ctx.signal)),
};
