// Dockerfile behaviours found differing from BuildKit on real projects' Dockerfiles (issue 16),
// each checked on the compiled binary against what BuildKit does, with BuildKit's source or test
// cited beside it (moby/buildkit at the dockerfile/1.26 frontend). Builds need root and runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { busyboxImage, pushImage } from "../../scripts/test-env.ts";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, expectExit, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `Dockerfile behaviour tests: ${NEEDS_ROOT_AND_RUNC}`);
const TIMEOUT = 240_000;

let registry = "";
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
});

function context(dockerfile: string, files: Record<string, string> = {}): string {
  const ctx = tempDir("kitbuild-ctx-");
  writeFileSync(`${ctx}/Dockerfile`, dockerfile);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(`${ctx}/${path}`.replace(/\/[^/]*$/, ""), { recursive: true });
    writeFileSync(`${ctx}/${path}`, text);
  }
  return ctx;
}

function build(ctx: string, args: string[] = [], env: Record<string, string> = {}) {
  const work = tempDir();
  const out = `${work}/out`;
  const root = env.KITBUILD_ROOT ?? `${work}/root`;
  return runKitbuild(["build", "--progress=plain", ...args, "-o", `type=local,dest=${out}`, ctx], { env: { KITBUILD_ROOT: root, ...env } }).then((res) => ({
    ...res,
    read: (p: string) => readFileSync(`${out}/${p}`, "utf8"),
  }));
}

async function imageConfig(ctx: string, args: string[] = [], env: Record<string, string> = {}) {
  const res = await runKitbuild(["debug", "image-config", ...args, ctx], { env });
  expectExit(res, 0, "kitbuild debug image-config");
  return JSON.parse(res.stdout) as { config: Record<string, unknown>; history: Array<{ created_by?: string; created?: string }>; created?: string };
}

describe.skipIf(skip)("Dockerfile behaviours as BuildKit's", () => {
  // BuildKit parses JSON with json.Unmarshal since "dockerfile: fix invalid usage of
  // json.NewDecoder" (80518e257, dockerfile/1.9): text after the array makes it the shell form.
  // Its testInvalidJSONCommands expects `ENTRYPOINT []random string` to give
  // ["/bin/sh", "-c", "[]random string"]; older frontends took the array and dropped the rest.
  test("a JSON-form instruction followed by more text is the shell form (testInvalidJSONCommands)", async () => {
    const ctx = context('FROM scratch\nENTRYPOINT ["/app", "serve"] # note\nCMD []random string\n');
    const config = await imageConfig(ctx);
    expect(config.config.Entrypoint).toEqual(["/bin/sh", "-c", '["/app", "serve"] # note']);
    expect(config.config.Cmd).toEqual(["/bin/sh", "-c", "[]random string"]);
    // Trailing spaces after the array are still JSON.
    const plain = await imageConfig(context('FROM scratch\nENTRYPOINT ["/app"]   \n'));
    expect(plain.config.Entrypoint).toEqual(["/app"]);
  });

  // BuildKit's file ops resolve a USER name through the step's /etc/passwd and take uid 0/gid 0
  // when the file or the entry is missing (solver/llbsolver/ops/user_linux.go readUser); only RUN
  // needs the user to exist (executor/oci/user.go GetUser).
  test("WORKDIR after USER without a passwd entry builds, the directory owned by 0:0 (readUser)", async () => {
    const ctx = context(
      [
        `FROM ${registry}/busybox`,
        "USER nosuchuser",
        "WORKDIR /app/sub",
        "USER 1234",
        "WORKDIR /numeric",
        "USER root",
        "RUN stat -c %u:%g /app/sub /numeric > /owners",
        "FROM scratch AS bare",
        "USER root",
        "WORKDIR /data",
        "FROM scratch",
        "COPY --from=0 /owners /owners",
        "COPY --from=bare /data /data/",
        "",
      ].join("\n"),
    );
    const res = await build(ctx);
    expectExit(res, 0);
    expect(res.read("owners")).toBe("0:0\n1234:1234\n");
    // RUN as a user that does not exist still fails, as in BuildKit.
    const run = await build(context(`FROM ${registry}/busybox\nUSER nosuchuser\nRUN true\n`));
    expectExit(run, 1);
    expect(run.stderr).toContain('unable to find user "nosuchuser"');
  }, TIMEOUT);

  // fsutil's walker enters an excluded directory when an exclusion (`!`) may match below it and
  // sends a re-included file with the directories leading to it; moby/patternmatcher decides each
  // path by the last matching pattern (BuildKit's testDockerignore / fsutil TestWalkerInclude...).
  test(".dockerignore: after ** or a directory is excluded, !dir/file brings the file back with its parents", async () => {
    const ctx = context(
      [
        `FROM ${registry}/busybox`,
        "COPY . /ctx/",
        "COPY dir /fromdir/",
        "RUN cd /ctx && find . | sort > /listing && cd /fromdir && find . | sort > /fromdir-listing",
        "",
      ].join("\n"),
      {
        "dir/keep.txt": "keep\n",
        "dir/drop.txt": "drop\n",
        "dir/sub/deep.txt": "deep\n",
        "dir/sub/other.txt": "other\n",
        "top.txt": "top\n",
        "chain/a.log": "a\n",
        "chain/b.log": "b\n",
      },
    );
    writeFileSync(`${ctx}/.dockerignore`, ["**", "!Dockerfile", "!dir/keep.txt", "!dir/sub/deep.txt", "!chain", "chain/*.log", "!chain/b.log", ""].join("\n"));
    const res = await build(ctx);
    expectExit(res, 0);
    expect(res.read("listing").split("\n").filter(Boolean)).toEqual([
      ".",
      "./Dockerfile",
      "./chain",
      "./chain/b.log",
      "./dir",
      "./dir/keep.txt",
      "./dir/sub",
      "./dir/sub/deep.txt",
    ]);
    expect(res.read("fromdir-listing").split("\n").filter(Boolean)).toEqual([".", "./keep.txt", "./sub", "./sub/deep.txt"]);
  }, TIMEOUT);

  // Since dockerfile/1.8 (47a52a17b "avoid evaluating ARG default if unused") dispatch skips the
  // word expansion of ARG, and buildMetaArgs never expands names: `ARG ${name}=value` declares an
  // arg named literally "${name}"; its value does not reach a variable named after the expansion.
  test("ARG ${name}=value: the name is taken literally, as BuildKit ≥ 1.8 does", async () => {
    const ctx = context('FROM scratch\nENV name=FOO\nARG ${name}=value\nENV X=${FOO}-end\n');
    const config = await imageConfig(ctx);
    expect(config.history.map((h) => h.created_by)).toEqual(["ENV name=FOO", "ARG ${name}=value", "ENV X=-end"]);
    expect(config.config.Env).toContain("X=-end");
  });

  // BuildKit does not fail on two stages of one name: the DuplicateStageName check warns
  // (dockerfile_check_test.go testDuplicateStageName) and the later stage is the one a name finds
  // afterwards (dispatchStates.addState overwrites statesByName), for --target and COPY --from.
  test("two stages with the same name build; the later one is the one --target and COPY --from find", async () => {
    const ctx = context(
      [
        `FROM ${registry}/busybox AS dup`,
        "RUN echo first > /which",
        `FROM ${registry}/busybox AS dup`,
        "RUN echo second > /which",
        "FROM scratch",
        "COPY --from=dup /which /which",
        "",
      ].join("\n"),
    );
    const res = await build(ctx);
    expectExit(res, 0);
    expect(res.read("which")).toBe("second\n");
    const target = await build(ctx, ["--target", "dup"]);
    expectExit(target, 0);
    expect(target.read("which")).toBe("second\n");
  }, TIMEOUT);

  // buildx passes a non-empty SOURCE_DATE_EPOCH from its environment as
  // build-arg:SOURCE_DATE_EPOCH unless one is given (docker/buildx build/opt.go).
  test("SOURCE_DATE_EPOCH from the environment is a build arg, as buildx passes it", async () => {
    const ctx = context("FROM scratch\nARG SOURCE_DATE_EPOCH\nLABEL epoch=${SOURCE_DATE_EPOCH}\n");
    const fromEnv = await imageConfig(ctx, [], { SOURCE_DATE_EPOCH: "1700000000" });
    expect(fromEnv.config.Labels).toEqual({ epoch: "1700000000" });
    expect(fromEnv.history.every((h) => h.created === "2023-11-14T22:13:20Z")).toBe(true);
    const explicit = await imageConfig(ctx, ["--build-arg", "SOURCE_DATE_EPOCH=1600000000"], { SOURCE_DATE_EPOCH: "1700000000" });
    expect(explicit.config.Labels).toEqual({ epoch: "1600000000" });
    const empty = await imageConfig(ctx, [], { SOURCE_DATE_EPOCH: "" });
    expect(empty.config.Labels).toEqual({ epoch: "" });
  });

  // dockerui/config.go: build-arg:BUILDKIT_SANDBOX_HOSTNAME becomes the "hostname" option, which
  // dockerfile2llb sets on every stage's state (so every RUN); it is not an unused build arg.
  test("BUILDKIT_SANDBOX_HOSTNAME sets every RUN's hostname", async () => {
    const ctx = context(`FROM ${registry}/busybox\nRUN hostname > /h && cat /etc/hostname >> /h\nFROM scratch\nCOPY --from=0 /h /h\n`);
    const res = await build(ctx, ["--build-arg", "BUILDKIT_SANDBOX_HOSTNAME=kit-box"]);
    expectExit(res, 0);
    expect(res.read("h")).toBe("kit-box\nkit-box\n");
    expect(res.stderr).not.toContain("BUILDKIT_SANDBOX_HOSTNAME");
  }, TIMEOUT);

  // BuildKit prunes the cache mounts of every step that ignores the cache when it loads the graph
  // (solver/llbsolver/vertex.go detectPrunedCacheID, worker PruneCacheMounts; moby/buildkit#2447,
  // #4250), mounts with mode/uid/gid included (#5306): under --no-cache each starts empty, and
  // the steps of that build share the new directory.
  test("--no-cache starts every cache mount empty, plain and with mode/uid/gid", async () => {
    const ctx = context(
      [
        `FROM ${registry}/busybox`,
        "ARG RUNID",
        "RUN --mount=type=cache,target=/plain echo $RUNID >> /plain/log && cat /plain/log > /plain-seen",
        "RUN --mount=type=cache,target=/moded,mode=0755,uid=1000 echo $RUNID >> /moded/log && cat /moded/log > /moded-seen",
        "RUN --mount=type=cache,target=/plain cat /plain/log > /plain-again",
        "",
      ].join("\n"),
    );
    const root = `${tempDir()}/root`;
    const run = (id: string, extra: string[] = []) => build(ctx, ["--build-arg", `RUNID=${id}`, ...extra], { KITBUILD_ROOT: root });
    const first = await run("1");
    expectExit(first, 0);
    const second = await run("2");
    expectExit(second, 0);
    // Without --no-cache both kept their content.
    expect(second.read("plain-seen")).toBe("1\n2\n");
    expect(second.read("moded-seen")).toBe("1\n2\n");
    const third = await run("3", ["--no-cache"]);
    expectExit(third, 0);
    expect(third.read("plain-seen")).toBe("3\n");
    expect(third.read("moded-seen")).toBe("3\n");
    // A later step of the same build sees what an earlier one wrote.
    expect(third.read("plain-again")).toBe("3\n");
    const fourth = await run("4", ["--no-cache"]);
    expectExit(fourth, 0);
    expect(fourth.read("plain-seen")).toBe("4\n");
    expect(fourth.read("moded-seen")).toBe("4\n");
    // And a normal build after it continues from the reset directory.
    const fifth = await run("5");
    expectExit(fifth, 0);
    expect(fifth.read("plain-seen")).toBe("4\n5\n");
  }, TIMEOUT * 2);

  // BuildKit's frontend keeps the base image's config in docker-image-spec's typed DockerOCIImage
  // (ocispec.Image plus Healthcheck/OnBuild/Shell), so fields it does not declare are dropped, and
  // the exporter re-marshals the top level as a map (writer.go patchImageConfig: keys sorted).
  test("the image config drops the base image's legacy fields (comment, docker_version, container_config, Hostname...)", async () => {
    const busybox = await busyboxImage();
    const legacy = {
      ...busybox.config,
      comment: "Imported from -",
      docker_version: "20.10.7",
      container: "3f1c0e5a",
      container_config: { Hostname: "3f1c0e5a", Cmd: ["/bin/sh"] },
      config: { ...(busybox.config.config as object), Hostname: "", AttachStdin: false, AttachStdout: false, Tty: false, Image: "sha256:0" },
    };
    await pushImage(registry, "legacy-base", "latest", { layers: busybox.layers, config: legacy });
    const ctx = context(`FROM ${registry}/legacy-base\nLABEL kept=yes\n`);
    const work = tempDir();
    const res = await runKitbuild(["build", "--progress=plain", "--iidfile", `${work}/iid`, "-o", `type=oci,dest=${work}/image.tar`, ctx], { env: { KITBUILD_ROOT: `${work}/root` } });
    expectExit(res, 0);
    mkdirSync(`${work}/layout`);
    expect(spawnSync("tar", ["-xf", `${work}/image.tar`, "-C", `${work}/layout`]).status).toBe(0);
    const blob = (digest: string) => readFileSync(`${work}/layout/blobs/sha256/${digest.slice("sha256:".length)}`);
    const index = JSON.parse(readFileSync(`${work}/layout/index.json`, "utf8")) as { manifests: Array<{ digest: string }> };
    const manifest = JSON.parse(blob(index.manifests[0]!.digest).toString()) as { config: { digest: string } };
    const text = blob(manifest.config.digest).toString();
    for (const field of ["docker_version", "container_config", '"container"', "Imported from", "Hostname", "AttachStdin", "Tty", '"Image"']) {
      expect(text).not.toContain(field);
    }
    const config = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(config)).toEqual(Object.keys(config).sort());
    expect((config.config as { Labels: unknown }).Labels).toEqual({ kept: "yes" });
    expect(readFileSync(`${work}/iid`, "utf8")).toBe(manifest.config.digest);
  }, TIMEOUT);
});
