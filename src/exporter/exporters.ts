// The exporters by output type (BuildKit's exporter registry): `-o type=…` picks one here.
import { resolve } from "node:path";
import type { Exporter } from "./exporter.ts";
import { localExporter, tarExporter } from "./filesystem-exporters.ts";
import { dockerExporter, ociExporter, registryExporter } from "./image-exporters.ts";
import type { OutputSpec } from "./image-options.ts";
import { writeFailure } from "../util/write-errors.ts";

type ExporterTable = { [T in OutputSpec["type"]]: Exporter<Extract<OutputSpec, { type: T }>> };

const EXPORTERS: ExporterTable = {
  local: localExporter,
  tar: tarExporter,
  oci: ociExporter,
  docker: dockerExporter,
  image: registryExporter,
};

export function exporterFor<O extends OutputSpec>(out: O): Exporter<O> {
  const exporter = EXPORTERS[out.type] as unknown as Exporter<O>;
  if (!("dest" in out) || out.dest === "-") return exporter;
  const dest = resolve(out.dest);
  // Any write the exporter did not map itself that failed for want of space or permission names the output.
  return {
    title: exporter.title,
    export: (o, ctx) => exporter.export(o, ctx).catch((e: unknown) => {
      throw writeFailure(e, { path: dest, area: "output" });
    }),
  };
}
