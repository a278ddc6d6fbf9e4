// The exporters by output type (BuildKit's exporter registry): `-o type=…` picks one here.
import type { Exporter } from "./exporter.ts";
import { localExporter, tarExporter } from "./filesystem-exporters.ts";
import { dockerExporter, ociExporter, registryExporter } from "./image-exporters.ts";
import type { OutputSpec } from "./image-options.ts";

type ExporterTable = { [T in OutputSpec["type"]]: Exporter<Extract<OutputSpec, { type: T }>> };

const EXPORTERS: ExporterTable = {
  local: localExporter,
  tar: tarExporter,
  oci: ociExporter,
  docker: dockerExporter,
  image: registryExporter,
};

export function exporterFor<O extends OutputSpec>(out: O): Exporter<O> {
  return EXPORTERS[out.type] as unknown as Exporter<O>;
}
