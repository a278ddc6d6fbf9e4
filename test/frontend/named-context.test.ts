// Named contexts in the conversion, as BuildKit's dockerfile2llb applies them (convert.go:
// buildDispatchStates replaces a stage whose name has a context, resolveBaseImage looks FROM and
// COPY --from names up; dockerui's NamedContext compares familiar names with ":latest" dropped, and
// "scratch" and "context" are never looked up). The named contexts come from control's loader over
// a fake registry (no I/O).
import { describe, expect, test } from "bun:test";
import { namedContexts, parseBuildContexts } from "../../src/control/named-contexts.ts";
import type { ExecOp } from "../../src/llb/ops.ts";
import { convert, execs, fakeResolver, names, pinned, type Resolved, sources } from "./convert-helpers.ts";

function withContexts(values: string[], log: Resolved[]) {
  const resolve = fakeResolver({}, log);
  const contexts = namedContexts(parseBuildContexts(values), { resolveImage: (ref, platform) => resolve(ref, platform), signal: new AbortController().signal });
  return { namedContexts: contexts, resolveImage: resolve };
}

describe("named contexts in the conversion", () => {
  test("a stage named like a context is replaced, even one FROM another stage (moby/buildkit#5578)", async () => {
    const log: Resolved[] = [];
    const src = "FROM busybox AS parent\nFROM parent AS base\nRUN echo base > /out\nFROM base\nRUN [ -f /etc/alpine-release ]\n";
    const result = await convert(src, withContexts(["base=docker-image://alpine"], log));
    expect(log.map((r) => r.ref)).toEqual(["alpine"]);
    expect(names(result.definition)).toContain(`[context base] ${pinned("alpine")}`);
    const runs = execs(result.definition).map((e: ExecOp) => e.meta.args.at(-1));
    expect(runs).toEqual(["[ -f /etc/alpine-release ]"]);
    // The image's config is the stage's: the history starts with the context image's.
    expect(result.image.history?.[0]?.created_by).toBe("base alpine");
  });

  test("FROM and COPY --from image names meet contexts by familiar name, tag included", async () => {
    const log: Resolved[] = [];
    const src = "FROM alpine\nCOPY --from=docker.io/library/tools:latest /t /t\nFROM alpine:3.20\nCOPY --from=0 / /\n";
    const result = await convert(src, withContexts(["alpine=docker-image://mirror.example/alpine", "tools=docker-image://mirror.example/tools"], log));
    expect(log.map((r) => r.ref).sort()).toEqual(["alpine:3.20", "mirror.example/alpine", "mirror.example/tools"]);
    expect(sources(result.definition).map((s) => s.identifier)).toContain(`docker-image://${pinned("mirror.example/tools")}`);
  });

  test('"context" and "scratch" are never looked up; a stage of another name is left alone', async () => {
    const log: Resolved[] = [];
    const src = "FROM busybox AS context\nRUN echo in-stage\nFROM scratch\nCOPY --from=context /x /x\n";
    const result = await convert(src, withContexts(["context=docker-image://alpine", "scratch=docker-image://alpine", "other=docker-image://alpine"], log));
    expect(log.map((r) => r.ref)).toEqual(["busybox"]);
    expect(execs(result.definition).map((e) => e.meta.args.at(-1))).toEqual(["echo in-stage"]);
  });

  test("docker-image://scratch is an empty filesystem; a git URL is a git source with its query", async () => {
    const log: Resolved[] = [];
    const src = "FROM base\nCOPY --from=src / /src/\n";
    const result = await convert(src, withContexts(["base=docker-image://scratch", "src=https://example.com/r.git?ref=v1&subdir=lib&submodules=false"], log));
    expect(log).toEqual([]);
    const git = sources(result.definition).find((s) => s.identifier.startsWith("git+"));
    expect(git).toMatchObject({ identifier: "git+https://example.com/r.git", attrs: { ref: "v1", subdir: "lib", "git.skipsubmodules": "true" } });
    expect(sources(result.definition).some((s) => s.identifier.startsWith("docker-image://"))).toBe(false);
  });
});

describe("--build-context values", () => {
  test("classified as buildx does; names by familiar form", () => {
    const parsed = parseBuildContexts([
      "a=docker-image://alpine:3.20", "docker.io/library/b:latest=./dir", "c=oci-layout:///l:v2", "d=oci-layout:///l@sha256:" + "1".repeat(64),
      "e=git@github.com:org/repo.git", "f=https://example.com/ctx.tar.gz", "g=https://example.com/r.git#main",
    ]);
    expect(Object.keys(parsed).sort()).toEqual(["a", "b", "c", "d", "e", "f", "g"]);
    expect(parsed.a).toEqual({ kind: "image", ref: "alpine:3.20" });
    expect(parsed.b).toMatchObject({ kind: "local" });
    expect(parsed.c).toEqual({ kind: "oci-layout", dir: "/l", tag: "v2", digest: undefined });
    expect(parsed.d).toEqual({ kind: "oci-layout", dir: "/l", tag: undefined, digest: `sha256:${"1".repeat(64)}` });
    expect(parsed.e).toEqual({ kind: "git", url: "git@github.com:org/repo.git" });
    expect(parsed.f).toEqual({ kind: "http", url: "https://example.com/ctx.tar.gz" });
    expect(parsed.g).toEqual({ kind: "git", url: "https://example.com/r.git#main" });
  });
});
