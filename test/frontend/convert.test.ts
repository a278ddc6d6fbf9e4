// Dockerfile → graph conversion: stages, ARG scoping, platform ARGs, targets, reachability, names,
// and errors. Expected names, environments and history follow BuildKit's dockerfile2llb
// (convert.go: prefixCommand, dispatchArg, runCommandString, commitToHistory).
import { describe, expect, test } from "bun:test";
import type { FileOp, SourceOp } from "../../src/llb/ops.ts";
import {
  byName, convert, convertError, DIGEST, execs, fakeResolver, files, history, names, pinned, type Resolved, root, sources,
} from "./convert-helpers.ts";

describe("stages and steps", () => {
  test("the skeleton becomes image → mkdir → copy from context → exec, named like BuildKit", async () => {
    const src = 'FROM busybox\nARG NAME=world\nENV GREETING="hello ${NAME}"\nWORKDIR /app\nCOPY . .\nRUN echo "$GREETING" > greeting.txt\n';
    const result = await convert(src);
    const { definition, image } = result;
    expect(names(definition)).toEqual([
      `[1/4] FROM ${pinned("busybox")}`,
      "[2/4] WORKDIR /app",
      "[internal] load build context",
      "[3/4] COPY . .",
      // RUN's name keeps quotes and shows variables expanded.
      '[4/4] RUN echo "hello world" > greeting.txt',
    ]);
    const exec = execs(definition)[0];
    expect(exec?.meta.args).toEqual(["/bin/sh", "-c", 'echo "$GREETING" > greeting.txt']);
    expect(exec?.meta.cwd).toBe("/app");
    // ARG values reach RUN's environment but not the image config.
    expect(exec?.meta.env).toEqual(["PATH=/usr/bin:/bin", "NAME=world", "GREETING=hello world"]);
    expect(image.config.Env).toEqual(["PATH=/usr/bin:/bin", "GREETING=hello world"]);
    expect(image.config.WorkingDir).toBe("/app");
    expect(image.created).toBeUndefined();
    expect((files(definition)[1] as FileOp).actions[0]).toMatchObject({ action: "copy", src: "/", dest: "/app/", dirCopyContents: true });
    expect(root(definition).meta.location).toEqual({ file: "Dockerfile", ranges: [{ start: 6, end: 6 }] });
    expect(history(result)).toEqual([
      "base busybox",
      "ARG NAME=world (empty)",
      "ENV GREETING=hello world (empty)",
      "WORKDIR /app",
      "COPY . . # buildkit",
      'RUN |1 NAME=world /bin/sh -c echo "$GREETING" > greeting.txt # buildkit',
    ]);
  });

  test("a single stage has no name in its steps; several stages use AS names or stage-N", async () => {
    const multi = await convert("FROM busybox AS build\nRUN a\nFROM busybox\nRUN b\n");
    expect(names(multi.definition)).toContain("[stage-1 2/2] RUN b");
    const one = await convert("FROM busybox\nRUN a\n");
    expect(names(one.definition)).toContain("[2/2] RUN a");
    // Every RUN --mount counts as a source stage, so even one stage gets a name (as in BuildKit).
    const mounted = await convert("FROM busybox\nRUN --mount=type=cache,target=/c a\n");
    expect(names(mounted.definition)).toContain("[stage-0 2/2] RUN --mount=type=cache,target=/c a");
  });

  test("step counts include FROM an image, RUN, COPY, ADD and WORKDIR; WORKDIR / adds no step", async () => {
    const { definition } = await convert("FROM busybox\nWORKDIR /\nENV A=1\nRUN a\nRUN b\nRUN c\nRUN d\nRUN e\nRUN f\nRUN g\nRUN h\n");
    // BuildKit counts WORKDIR / in the total but runs nothing for it; numbers pad to the total's width.
    expect(names(definition)).toEqual([`[ 1/10] FROM ${pinned("busybox")}`, ...["a", "b", "c", "d", "e", "f", "g", "h"].map((c, i) => `[ ${i + 2}/10] RUN ${c}`)]);
  });

  test("FROM another stage inherits its filesystem, environment, ARGs, working directory and user", async () => {
    const src = "FROM busybox AS base\nARG V=1\nENV E=2\nWORKDIR /w\nUSER app\nFROM base\nRUN run\n";
    const result = await convert(src);
    const exec = byName(result.definition, "[stage-1 1/1] RUN run");
    // The base's environment, then its config's variables set again (so they move last, as in an llb state).
    expect(exec.vertex.op).toMatchObject({ kind: "exec", meta: { cwd: "/w", user: "app", env: ["V=1", "PATH=/usr/bin:/bin", "E=2"] } });
    expect(history(result).at(-1)).toBe("RUN |1 V=1 /bin/sh -c run # buildkit");
    expect(result.image.config.User).toBe("app");
  });

  test("FROM scratch starts empty with BuildKit's scratch config", async () => {
    const { definition, image } = await convert("FROM scratch\nENV A=1\n");
    expect(root(definition).vertex.op).toEqual({ kind: "file", base: -1, actions: [] });
    expect(image.config).toEqual({ WorkingDir: "/", Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=1"] });
    expect(image.rootfs).toEqual({ type: "layers", diff_ids: [] });
  });

  test("an image without layers is scratch: no FROM vertex, though the total still counts it", async () => {
    const { definition } = await convert("FROM empty\nRUN a\n", {}, { empty: { empty: true } });
    expect(sources(definition)).toEqual([]);
    expect(names(definition)).toEqual(["[1/2] RUN a"]);
  });

  test("a base image without PATH gets the default one, at the end of its environment", async () => {
    const { definition, image } = await convert("FROM nopath\nRUN a\n", {}, { nopath: { Env: ["A=1"] } });
    expect(image.config.Env).toEqual(["A=1", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
    expect(execs(definition)[0]?.meta.env).toEqual(["A=1", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
  });
});

describe("ARG", () => {
  test("--build-arg overrides an ARG default; unused build args are reported, predefined ones never", async () => {
    const result = await convert("FROM busybox\nARG NAME=world\nRUN echo $NAME\n", { buildArgs: { NAME: "you", OTHER: "x", HTTP_PROXY: "p", SOURCE_DATE_EPOCH: "0" } });
    expect(execs(result.definition)[0]?.meta.env).toContain("NAME=you");
    expect(result.unusedBuildArgs).toEqual(["OTHER"]);
  });

  test("global ARGs expand FROM; a stage sees one only after a bare ARG of the same name", async () => {
    const src = "ARG BASE=busybox\nARG V=global\nFROM ${BASE}\nRUN before\nARG V\nRUN after\nARG BASE=own\nRUN last\n";
    const result = await convert(src, { buildArgs: { BASE: "alpine" } });
    expect(sources(result.definition)[0]?.identifier).toBe(`docker-image://${pinned("alpine")}`);
    const [before, after, last] = execs(result.definition);
    expect(before?.meta.env).toEqual(["PATH=/usr/bin:/bin"]);
    expect(after?.meta.env).toEqual(["PATH=/usr/bin:/bin", "V=global"]);
    // A --build-arg wins over the stage's default too.
    expect(last?.meta.env).toEqual(["PATH=/usr/bin:/bin", "V=global", "BASE=alpine"]);
    expect(result.unusedBuildArgs).toEqual([]);
    expect(history(result)).toContain("ARG V=global (empty)");
  });

  test("an ARG default sees earlier ARGs and ENVs; an ARG without a value stays out of the environment", async () => {
    const result = await convert("FROM busybox\nENV A=1\nARG B=${A}2\nARG C\nRUN x\n");
    expect(execs(result.definition)[0]?.meta.env).toEqual(["PATH=/usr/bin:/bin", "A=1", "B=12"]);
    expect(history(result)).toContain("ARG C (empty)");
    expect(history(result).at(-1)).toBe("RUN |2 B=12 C= /bin/sh -c x # buildkit");
  });

  test("predefined platform ARGs are global; TARGETSTAGE names the target", async () => {
    const src = "FROM busybox AS final\nARG TARGETPLATFORM\nARG TARGETOS\nARG TARGETARCH\nARG TARGETVARIANT\nARG BUILDPLATFORM\nARG BUILDARCH\nARG TARGETSTAGE\nRUN x\n";
    const result = await convert(src, { platform: { os: "linux", architecture: "arm64", variant: "v8" }, buildPlatform: { os: "linux", architecture: "amd64" } });
    expect(execs(result.definition)[0]?.meta.env.slice(1)).toEqual([
      "TARGETPLATFORM=linux/arm64", "TARGETOS=linux", "TARGETARCH=arm64", "TARGETVARIANT=",
      "BUILDPLATFORM=linux/amd64", "BUILDARCH=amd64", "TARGETSTAGE=final",
    ]);
  });

  test("FROM --platform expands global ARGs and resolves the image for that platform", async () => {
    const log: Resolved[] = [];
    const src = "FROM --platform=$BUILDPLATFORM busybox AS tools\nFROM --platform=linux/arm64 busybox\nCOPY --from=tools /bin/sh /sh\n";
    const result = await convert(src, { resolveImage: fakeResolver({}, log), buildPlatform: { os: "linux", architecture: "riscv64" } });
    expect(log.map((r) => r.platform.architecture).sort()).toEqual(["arm64", "riscv64"]);
    expect(sources(result.definition).map((s) => s.platform?.architecture).sort()).toEqual(["arm64", "riscv64"]);
    expect(result.image.architecture).toBe("arm64");
    const bad = await convertError("ARG P=\nFROM --platform=$P busybox\n");
    expect(bad.message).toBe("empty platform value from expression $P");
    expect(bad.location?.startLine).toBe(2);
  });

  test("proxy build args reach RUN through proxyEnv, not its environment or history, unless declared", async () => {
    const args = { buildArgs: { http_proxy: "http://proxy:3128", NO_PROXY: "localhost" } };
    const undeclared = await convert("FROM busybox\nRUN x\n", args);
    const exec = execs(undeclared.definition)[0];
    expect(exec?.meta.proxyEnv).toEqual({ HTTP_PROXY: "http://proxy:3128", http_proxy: "http://proxy:3128", NO_PROXY: "localhost", no_proxy: "localhost" });
    expect(exec?.meta.env).toEqual(["PATH=/usr/bin:/bin"]);
    expect(history(undeclared).at(-1)).toBe("RUN /bin/sh -c x # buildkit");
    const declared = await convert("FROM busybox\nARG http_proxy\nRUN x\n", args);
    expect(execs(declared.definition)[0]?.meta.env).toContain("http_proxy=http://proxy:3128");
    expect(history(declared).at(-1)).toBe("RUN |1 http_proxy=http://proxy:3128 /bin/sh -c x # buildkit");
  });

  test("SOURCE_DATE_EPOCH dates the history and the WORKDIR directory", async () => {
    const result = await convert("FROM busybox\nWORKDIR /app\nENV A=1\n", { buildArgs: { SOURCE_DATE_EPOCH: "1700000000" } });
    expect(result.epoch).toBe(1700000000);
    expect(result.image.history?.slice(1).map((h) => h.created)).toEqual(["2023-11-14T22:13:20Z", "2023-11-14T22:13:20Z"]);
    expect((files(result.definition)[0] as FileOp).actions[0]).toMatchObject({ action: "mkdir", timestamp: 1700000000 });
    const bad = await convertError("FROM busybox\n", { buildArgs: { SOURCE_DATE_EPOCH: "yesterday" } });
    expect(bad.code).toBe("E_DOCKERFILE_SOURCE_DATE_EPOCH");
  });
});

describe("targets and stage references", () => {
  test("only stages reachable from the target are resolved and converted", async () => {
    const log: Resolved[] = [];
    const src = "FROM nonexistent.invalid/broken AS unused\nRUN exit 1\nFROM busybox AS base\nRUN echo base\nFROM base\nRUN echo final\n";
    const { definition } = await convert(src, { resolveImage: fakeResolver({}, log) });
    expect(log.map((r) => r.ref)).toEqual(["busybox"]);
    expect(execs(definition).map((o) => o.meta.args.at(-1))).toEqual(["echo base", "echo final"]);
  });

  test("stages FROM the same image resolve it once", async () => {
    const log: Resolved[] = [];
    await convert("FROM busybox AS a\nRUN a\nFROM busybox\nCOPY --from=a /a /a\nCOPY --from=busybox /b /b\n", { resolveImage: fakeResolver({}, log) });
    expect(log.map((r) => r.ref)).toEqual(["busybox"]);
  });

  test("--target picks a stage; an unknown one suggests the closest and lists the stages", async () => {
    const src = "FROM busybox AS build\nRUN echo build\nFROM busybox AS test\nRUN echo test\n";
    const { definition } = await convert(src, { target: "BUILD" });
    expect(execs(definition).map((o) => o.meta.args.at(-1))).toEqual(["echo build"]);
    const err = await convertError(src, { target: "biuld" });
    expect(err.code).toBe("E_DOCKERFILE_TARGET");
    expect(err.message).toBe('target stage "biuld" could not be found');
    expect(err.hint).toBe('did you mean "build"? stages in this Dockerfile: build, test');
  });

  test("COPY --from names a stage, a stage index, or an image", async () => {
    const src = "FROM busybox AS a\nRUN make-a\nFROM busybox AS b\nRUN make-b\nFROM scratch\nCOPY --from=a /x /a\nCOPY --from=1 /x /b\nCOPY --from=alpine /etc/os-release /c\n";
    const { definition } = await convert(src);
    const copies = (files(definition) as FileOp[]).flatMap((f) => f.actions);
    expect(copies.map((a) => (a.action === "copy" ? a.dest : ""))).toEqual(["/a", "/b", "/c"]);
    const fromA = byName(definition, "[stage-2 1/3] COPY --from=a /x /a");
    expect(fromA.vertex.inputs).toHaveLength(1);
    expect(byName(definition, "[a 2/2] RUN make-a").digest).toBe(fromA.vertex.inputs[0]?.digest as string);
    const fromIndex = byName(definition, "[stage-2 2/3] COPY --from=1 /x /b");
    expect(byName(definition, "[b 2/2] RUN make-b").digest).toBe(fromIndex.vertex.inputs[1]?.digest as string);
    // An image named by --from is pulled as a source of its own, named without a step number.
    expect(byName(definition, `FROM ${pinned("alpine")}`).vertex.op.kind).toBe("source");
  });

  test("stage references that cannot work are errors at their line", async () => {
    const later = await convertError("FROM busybox AS a\nCOPY --from=b /x /y\nFROM busybox AS b\n", { target: "a" });
    expect(later.message).toBe('cannot copy from stage "b", it needs to be defined before current stage "a"');
    expect(later.location?.startLine).toBe(2);
    const cycle = await convertError("FROM busybox AS a\nCOPY --from=a /x /y\n");
    expect(cycle.message).toBe("circular dependency detected on stage: a");
    const index = await convertError("FROM busybox\nCOPY --from=5 /x /y\n");
    expect(index.message).toBe("invalid stage index 5");
    const variable = await convertError("ARG S=a\nFROM busybox AS a\nFROM busybox\nCOPY --from=$S /x /y\n");
    expect(variable.message).toContain("variable expansion is not supported for --from");
    expect(variable.location?.startLine).toBe(4);
  });

  test("a --from naming neither a stage nor a resolvable image fails at its line, suggesting a close stage", async () => {
    const err = await convertError("FROM busybox AS builder.invalid\nFROM busybox\nCOPY --from=biulder.invalid /x /y\n");
    expect(err.code).toBe("E_REGISTRY_NOT_FOUND");
    expect(err.location?.startLine).toBe(3);
    expect(err.hint).toBe('did you mean the stage "builder.invalid"?');
  });

  test("identical work in two stages is one vertex", async () => {
    const src = "FROM busybox AS a\nRUN echo same\nFROM busybox AS b\nRUN echo same\nFROM busybox\nCOPY --from=a /x /a\nCOPY --from=b /x /b\n";
    const { definition } = await convert(src);
    expect(execs(definition)).toHaveLength(1);
  });

  test("--no-cache-filter marks the RUN, COPY and ADD steps of the named stages only", async () => {
    const src = "FROM busybox AS deps\nRUN a\nFROM busybox\nWORKDIR /w\nCOPY --from=deps /a /a\nRUN b\n";
    const { definition } = await convert(src, { noCacheStages: ["DEPS"] });
    expect(byName(definition, "[deps 2/2] RUN a").meta.ignoreCache).toBe(true);
    expect(byName(definition, "[stage-1 4/4] RUN b").meta.ignoreCache).toBeUndefined();
    expect(byName(definition, "[stage-1 3/4] COPY --from=deps /a /a").meta.ignoreCache).toBeUndefined();
    // The two stages' FROM is one vertex; pulling an image is never marked.
    expect(byName(definition, `[stage-1 1/4] FROM ${pinned("busybox")}`).meta.ignoreCache).toBeUndefined();
  });

  test("the context source reads only the paths COPY and ADD name, unless a step needs all of it", async () => {
    const few = await convert("FROM busybox\nCOPY src/ /src\nADD https://example.com/f /f\nCOPY go.mod go.sum ./\n", { excludePatterns: ["*.log"] });
    const context = sources(few.definition).find((s) => s.identifier === "local://context") as SourceOp;
    expect(context.attrs).toEqual({ excludepatterns: '["*.log"]', followpaths: '["go.mod","go.sum","src"]' });
    const all = await convert("FROM busybox\nCOPY . /src\n");
    expect(sources(all.definition).find((s) => s.identifier === "local://context")?.attrs).toEqual({});
  });
});

describe("ONBUILD triggers", () => {
  test("an image's triggers run first in the stage FROM it, and are not inherited further", async () => {
    const images = { onbuilder: { OnBuild: ["RUN echo trigger", "COPY --from=helper /h /h"] } };
    const src = "FROM busybox AS helper\nRUN make\nFROM onbuilder\nRUN own\n";
    const result = await convert(src, {}, images);
    // The FROM step is named before the triggers are counted, as BuildKit does.
    expect(names(result.definition).filter((n) => n?.startsWith("[stage-1"))).toEqual([
      `[stage-1 1/2] FROM ${pinned("onbuilder")}`,
      "[stage-1 2/4] ONBUILD RUN echo trigger",
      "[stage-1 3/4] ONBUILD COPY --from=helper /h /h",
      "[stage-1 4/4] RUN own",
    ]);
    expect(byName(result.definition, "[stage-1 2/4] ONBUILD RUN echo trigger").meta.location?.ranges).toEqual([{ start: 3, end: 3 }]);
    expect(result.image.config.OnBuild).toBeUndefined();
    expect(history(result).slice(-3)).toEqual(["RUN /bin/sh -c echo trigger # buildkit", "COPY /h /h # buildkit", "RUN /bin/sh -c own # buildkit"]);
  });

  test("ONBUILD in a stage is stored in its config and runs in stages FROM it", async () => {
    const src = "FROM busybox AS base\nONBUILD RUN echo hi\nFROM base\nRUN own\n";
    const base = await convert(src, { target: "base" });
    expect(base.image.config.OnBuild).toEqual(["RUN echo hi"]);
    expect(history(base)).toEqual(["base busybox"]);
    const derived = await convert(src);
    expect(names(derived.definition)).toContain("[stage-1 1/2] ONBUILD RUN echo hi");
    expect(derived.image.config.OnBuild).toBeUndefined();
  });

  test("a broken trigger is an error at the FROM line", async () => {
    const err = await convertError("FROM bad\n", {}, { bad: { OnBuild: ["COPPY a b"] } });
    expect(err.message).toBe("failed to run ONBUILD trigger: unknown instruction: COPPY");
    expect(err.hint).toBe("did you mean COPY?");
    expect(err.location?.startLine).toBe(1);
  });
});

describe("errors", () => {
  test("parse and instruction errors name the file and line, with the lines for a code frame", async () => {
    const err = await convertError("FROM busybox\nRUN echo ok\nFROM busybox AS x y\n");
    expect(err.location).toMatchObject({ file: "Dockerfile", startLine: 3, endLine: 3 });
    expect(err.location?.lines?.[2]).toBe("FROM busybox AS x y");
    expect(err.message).toBe("FROM requires either one or three arguments");
    expect(err.hint).toBeDefined();
  });

  test("an unknown instruction or flag suggests the closest valid one", async () => {
    const instr = await convertError("FROM busybox\ncopyy a b\n");
    expect(instr.message).toBe("unknown instruction: copyy");
    expect(instr.hint).toBe("did you mean copy?");
    const flag = await convertError("FROM busybox\nCOPY --chwon=1 a b\n");
    expect(flag.message).toBe("unknown flag: --chwon");
    expect(flag.hint).toBe("did you mean --chown?");
    expect(flag.location?.startLine).toBe(2);
    const far = await convertError("FROM busybox\nCOPY --banana a b\n");
    expect(far.hint).toBe("valid flags: --chown, --from, --chmod, --link, --exclude, --parents");
  });

  test("empty Dockerfiles and instructions before FROM are refused", async () => {
    expect((await convertError("")).code).toBe("E_DOCKERFILE_EMPTY");
    expect((await convertError("# only a comment\n")).message).toBe("dockerfile parse error on line 1: file with no instructions");
    const before = await convertError("RUN x\nFROM busybox\n");
    expect(before.message).toBe("no build stage in current context");
    expect(before.hint).toBe("RUN cannot come before the first FROM; only ARG may");
  });

  test("a failing ${VAR:?} names the variable at its line", async () => {
    const err = await convertError('FROM busybox\nENV A="${MISSING:?must be set}"\n');
    expect(err.code).toBe("E_DOCKERFILE_EXPANSION");
    expect(err.message).toContain("MISSING: must be set");
    expect(err.location?.startLine).toBe(2);
  });

  test("a base image that cannot be resolved points at its FROM and suggests a stage of a close name", async () => {
    const err = await convertError("FROM busybox AS builder\nFROM biulder.invalid\n");
    expect(err.code).toBe("E_REGISTRY_NOT_FOUND");
    expect(err.location?.startLine).toBe(2);
  });

  test("a digest-pinned image keeps its digest", async () => {
    const { definition } = await convert(`FROM busybox@${DIGEST}\n`);
    expect(sources(definition)[0]?.identifier).toContain(DIGEST);
  });
});
