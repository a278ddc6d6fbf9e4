// `# syntax=` (or --build-arg BUILDKIT_SYNTAX=…, which wins as in BuildKit): kitbuild has one
// frontend, its own Dockerfile frontend, which stands for the official docker/dockerfile 1.x
// images (labs included). Naming one of those is accepted silently; any other frontend image is
// refused, never silently ignored.
import { KitError, type SourceLocation } from "../../util/errors.ts";
import { readDirectives } from "./parser/directives.ts";

const OFFICIAL = /^(?:docker\.io\/)?docker\/dockerfile(?::(?:latest|labs|1(?:\.\d+){0,2}(?:-labs)?))?(?:@sha256:[a-f0-9]{64})?$/;

/** Throws when the Dockerfile asks for a frontend other than the built-in one. */
export function checkSyntax(source: string, filename: string, buildArgs: Record<string, string>): void {
  const fromArg = buildArgs.BUILDKIT_SYNTAX;
  if (fromArg !== undefined && fromArg.trim() !== "") {
    const image = firstWord(fromArg);
    if (!OFFICIAL.test(image)) throw unsupported(image, "drop --build-arg BUILDKIT_SYNTAX or set it to docker/dockerfile:1");
    return;
  }
  const directive = readDirectives(source).find((d) => d.name === "syntax");
  if (!directive) return;
  const image = firstWord(directive.value);
  if (OFFICIAL.test(image)) return;
  throw unsupported(image, "remove the # syntax= line or write # syntax=docker/dockerfile:1", {
    file: filename, startLine: directive.line, endLine: directive.line, lines: source.split("\n"),
  });
}

function firstWord(s: string): string {
  return s.trim().split(/\s+/)[0] as string;
}

function unsupported(image: string, hint: string, location?: SourceLocation): KitError {
  return new KitError("E_DOCKERFILE_FRONTEND_UNSUPPORTED", `unsupported frontend "${image}": only the built-in Dockerfile frontend (docker/dockerfile:1) is supported`, { hint, ...(location ? { location } : {}) });
}
