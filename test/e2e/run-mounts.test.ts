// RUN --mount from a Dockerfile, through the compiled binary: the frontend's mounts run by the
// runc worker — cache (kept across builds), secret (file and env), bind from the context and from a
// stage, tmpfs — and --network=none. Needs root and runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry, expectExit } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `RUN --mount e2e tests: ${NEEDS_ROOT_AND_RUNC}`);

let registry = "";
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
});

const SECRET = `s3cret-${process.pid}-${Date.now()}`;

function dockerfile(reg: string): string {
  return [
    `FROM ${reg}/busybox AS build`,
    "RUN echo built > /artifact",
    `FROM ${reg}/busybox`,
    "RUN --mount=type=cache,target=/cache date +%s%N >> /cache/log && wc -l < /cache/log > /runs",
    "RUN --mount=type=secret,id=tok cat /run/secrets/tok > /dev/null && stat -c %a /run/secrets/tok > /secretmode",
    "RUN --mount=type=secret,id=tok,env=TOKEN sh -c 'test \"${#TOKEN}\" -gt 0 && echo ${#TOKEN} > /envlen'",
    "RUN --mount=type=bind,target=/ctx cat /ctx/input.txt > /fromctx",
    "RUN --mount=type=bind,from=build,source=/artifact,target=/a cat /a > /fromstage",
    "RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && ls /scratch > /tmpfs",
    "RUN --network=none tail -n +3 /proc/net/dev | wc -l > /links",
    "",
  ].join("\n");
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => `${e.parentPath}/${e.name}`);
}

describe.skipIf(skip)("RUN --mount (compiled binary)", () => {
  test("every mount type works from a Dockerfile, leaves no mount point behind, and the secret is nowhere", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, dockerfile(registry));
    writeFileSync(`${ctx}/input.txt`, "from the context\n");
    const work = tempDir();
    writeFileSync(`${work}/secret.txt`, SECRET);
    const root = `${work}/root`;
    const build = (out: string, extra: string[] = []) =>
      runKitbuild(["build", "--progress=plain", "--secret", `id=tok,src=${work}/secret.txt`, ...extra, "-o", out, ctx], { env: { KITBUILD_ROOT: root } });
    const first = await build(`${work}/o1`);
    expectExit(first, 0);
    const out = (name: string) => readFileSync(`${work}/o1/${name}`, "utf8").trim();
    expect(out("runs")).toBe("1");
    expect(out("secretmode")).toBe("400");
    expect(out("envlen")).toBe(String(SECRET.length));
    expect(out("fromctx")).toBe("from the context");
    expect(out("fromstage")).toBe("built");
    expect(out("tmpfs")).toBe("x");
    expect(out("links")).toBe("1"); // loopback only
    for (const gone of ["cache", "ctx", "a", "scratch", "run"]) expect(readdirSync(`${work}/o1`)).not.toContain(gone);

    // --no-cache starts the cache mount empty, as BuildKit does (kept across builds otherwise:
    // test/worker/cache-mounts.test.ts, test/e2e/dockerfile-behaviours.test.ts).
    const second = await build(`${work}/o2`, ["--no-cache"]);
    expectExit(second, 0);
    expect(readFileSync(`${work}/o2/runs`, "utf8").trim()).toBe("1");

    // The image's layers, uncompressed so that a search of their bytes means something.
    const image = await build(`type=oci,dest=${work}/img,tar=false,compression=uncompressed`);
    expectExit(image, 0);
    const layerBlobs = allFiles(`${work}/img/blobs`);
    expect(layerBlobs.some((f) => readFileSync(f).includes("from the context"))).toBe(true);

    for (const text of [first.stdout, first.stderr, second.stderr, image.stderr]) expect(text).not.toContain(SECRET);
    for (const f of [...allFiles(`${work}/o1`), ...layerBlobs, ...allFiles(root)]) expect(readFileSync(f).includes(SECRET)).toBe(false);
  }, 120_000);

  test("a missing required secret fails the step with a clear error", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nRUN --mount=type=secret,id=absent,required=true cat /run/secrets/absent\n`);
    const res = await runKitbuild(["build", "--progress=plain", ctx], { env: { KITBUILD_ROOT: `${tempDir()}/root` } });
    expectExit(res, 1);
    expect(res.stderr).toContain('"absent"');
    expect(res.stderr).toContain("Dockerfile:2");
  });
});
