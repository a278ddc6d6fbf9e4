// `--annotation [TYPE[,TYPE…]:]KEY=VALUE` as buildx reads it: TYPE is manifest (the default),
// index, manifest-descriptor or index-descriptor; each annotation goes to every image output,
// where the output's own annotation-* attributes win.
import type { AttestationOptions } from "../control/attestation-options.ts";
import { hasIndexAnnotations, type ImageOutput, indexAnnotationsError, isImageOutput, type OutputSpec } from "../exporter/image-options.ts";
import { usageError } from "./build-flag-table.ts";
import { platformValue } from "../control/platform-flag.ts";
import { platformName } from "../control/platform-builds.ts";
import { annotationTarget } from "./output-flags.ts";

const TYPES = ["manifest", "index", "manifest-descriptor", "index-descriptor"] as const;
type AnnotationType = (typeof TYPES)[number];

/** `platform`: the one platform a `TYPE[PLATFORM]:` annotation is for (normalized), else every platform's. */
export type Annotation = { types: AnnotationType[]; key: string; value: string; platform?: string };

const usage = (message: string, hint: string) => usageError("build", message, hint);

export function parseAnnotation(spec: string): Annotation {
  const eq = spec.indexOf("=");
  if (eq <= 0) throw usage(`invalid --annotation "${spec}"`, "write it as --annotation [TYPE:]KEY=VALUE, e.g. --annotation index:org.opencontainers.image.title=app");
  const left = spec.slice(0, eq);
  const typed = /^([a-z-]+(?:\[[^\]]*\])?(?:,[a-z-]+(?:\[[^\]]*\])?)*):(.+)$/.exec(left);
  const key = typed ? (typed[2] as string) : left;
  const types: AnnotationType[] = [];
  let platform: string | undefined;
  for (const typeText of typed ? (typed[1] as string).split(",") : ["manifest"]) {
    const qualified = /^([a-z-]+)\[([^\]]*)\]$/.exec(typeText);
    const t = qualified ? (qualified[1] as string) : typeText;
    if (!(TYPES as readonly string[]).includes(t)) throw usage(`unknown annotation type "${t}" in "${spec}"`, `the types are ${TYPES.join(", ")}`);
    if (qualified) {
      if (t !== "manifest" && t !== "manifest-descriptor") throw usage(`a platform applies to manifest annotations only, not "${typeText}"`, "write manifest[PLATFORM]:KEY=VALUE or manifest-descriptor[PLATFORM]:KEY=VALUE");
      platform = platformName(platformValue(qualified[2] as string));
    }
    types.push(t as AnnotationType);
  }
  return { types, key, value: spec.slice(eq + 1), ...(platform ? { platform } : {}) };
}

/** Adds the --annotation values to every image output, under what the output sets itself. */
export function applyAnnotations(outputs: OutputSpec[], specs: readonly string[]): void {
  const annotations = specs.map(parseAnnotation);
  if (annotations.length === 0) return;
  for (const out of outputs.filter(isImageOutput)) {
    for (const a of annotations) for (const t of a.types) a.platform ? addForPlatform(out, a.platform, t, a.key, a.value) : addUnder(out, t, a.key, a.value);
  }
}

function addForPlatform(out: ImageOutput, platform: string, type: AnnotationType, key: string, value: string): void {
  const forPlatform = ((out.platformAnnotations ??= {})[platform] ??= {});
  const target = type === "manifest" ? (forPlatform.manifest ??= {}) : (forPlatform.manifestDescriptor ??= {});
  target[key] = value;
}

/** Index annotations need an index, which a one-platform image has only with attestations (BuildKit's rule); several platforms always have one. */
export function checkIndexAnnotations(outputs: readonly OutputSpec[], attest: AttestationOptions, platformCount = 1): void {
  for (const out of outputs.filter(isImageOutput)) {
    const pushed = out.type === "image" && out.push;
    const indexed = platformCount > 1 || attest.sbom !== undefined || (attest.provenance !== undefined && (pushed || !attest.provenance.byDefault));
    if (!indexed && hasIndexAnnotations(out)) throw indexAnnotationsError();
  }
}

function addUnder(out: ImageOutput, type: AnnotationType, key: string, value: string): void {
  const target = annotationTarget(out, type === "manifest" ? undefined : `-${type}`);
  if (!Object.hasOwn(target, key)) target[key] = value;
}
