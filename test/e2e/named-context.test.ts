// --build-context NAME=VALUE end to end (compiled binary), each kind against a real source on
// loopback: a directory (read through its own .dockerignore, BuildKit's testNamedLocalContext), an
// image of the test registry (docker-image://, BuildKit's testNamedImageContext: it overrides both
// an image name in FROM and a stage of that name), an OCI layout written by kitbuild itself
// (BuildKit's testNamedOCILayoutContext), a git repository over `git http-backend` and an http URL
// (BuildKit's dockerui: one file named "context"). A COPY --from naming nothing known says which
// image it resolves. Needs root (builds need root in this version); no RUN step, so no runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { expectExit, IS_ROOT, NEEDS_ROOT, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";
import { serveFiles, serveGit } from "../servers.ts";

const skip = skipBecause(!IS_ROOT, `named build contexts: ${NEEDS_ROOT}`);

let registry = "";
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
});

function context(files: Record<string, string>): string {
  const dir = tempDir("kitbuild-ctx-");
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(`${dir}/${name}`.replace(/\/[^/]*$/, ""), { recursive: true });
    writeFileSync(`${dir}/${name}`, text);
  }
  return dir;
}

async function build(args: string[], root: string) {
  return runKitbuild(["build", "--progress=plain", ...args], { env: { KITBUILD_ROOT: root }, timeoutMs: 240_000 });
}

describe.skipIf(skip)("--build-context (compiled binary)", () => {
  test("a directory replaces the stage of its name and is read through its own .dockerignore", async () => {
    const named = context({ out: "dummy-result", out2: "dummy-result", ".dockerignore": "out2\n" });
    const ctx = context({ Dockerfile: "FROM scratch AS base\nCOPY nothing-here /\nFROM scratch\nCOPY --from=base /o* /\n", ".dockerignore": "Dockerfile\n" });
    const root = tempDir();
    const res = await build(["--build-context", `base=${named}`, "-o", `${root}/out`, ctx], root);
    expectExit(res, 0);
    expect(readdirSync(`${root}/out`).sort()).toEqual(["out"]);
    expect(readFileSync(`${root}/out/out`, "utf8")).toBe("dummy-result");
    expect(res.stderr).toContain("[context base] load from client");
    // The stage it replaced never ran: its COPY of a missing file would have failed the build.
  }, 240_000);

  test("FROM NAME starts from the directory; a later change to it is a cache miss, none is a hit", async () => {
    const named = context({ "lib/a.txt": "a1\n" });
    const ctx = context({ Dockerfile: "FROM src\nCOPY hello.txt /hello.txt\n", "hello.txt": "hello\n" });
    const root = tempDir();
    const first = await build(["--build-context", `src=${named}`, "-o", `${root}/out1`, ctx], root);
    expectExit(first, 0);
    expect(readFileSync(`${root}/out1/lib/a.txt`, "utf8")).toBe("a1\n");
    expect(readFileSync(`${root}/out1/hello.txt`, "utf8")).toBe("hello\n");
    const again = await build(["--build-context", `src=${named}`, "-o", `${root}/out2`, ctx], root);
    expectExit(again, 0);
    expect(again.stderr).toMatch(/COPY hello.txt \/hello.txt\n#\d+ CACHED/);
    writeFileSync(`${named}/lib/a.txt`, "a2\n");
    const changed = await build(["--build-context", `src=${named}`, "-o", `${root}/out3`, ctx], root);
    expectExit(changed, 0);
    expect(readFileSync(`${root}/out3/lib/a.txt`, "utf8")).toBe("a2\n");
  }, 240_000);

  test("COPY --from=NAME reads the directory in place: only the files it copies key the step", async () => {
    const named = context({ "a.txt": "a1\n", "b.txt": "b1\n" });
    const ctx = context({ Dockerfile: "FROM scratch\nCOPY --from=src /a.txt /a.txt\n" });
    const root = tempDir();
    const args = (out: string) => ["--build-context", `src=${named}`, "-o", `${root}/${out}`, ctx];
    expectExit(await build(args("out1"), root), 0);
    expect(readdirSync(`${root}/out1`)).toEqual(["a.txt"]);
    writeFileSync(`${named}/b.txt`, "b2\n");
    const other = await build(args("out2"), root);
    expectExit(other, 0);
    expect(other.stderr).toMatch(/COPY --from=src \/a.txt \/a.txt\n#\d+ CACHED/);
    writeFileSync(`${named}/a.txt`, "a2\n");
    const copied = await build(args("out3"), root);
    expectExit(copied, 0);
    expect(copied.stderr).not.toMatch(/COPY --from=src \/a.txt \/a.txt\n#\d+ CACHED/);
    expect(readFileSync(`${root}/out3/a.txt`, "utf8")).toBe("a2\n");
  }, 240_000);

  test("docker-image:// overrides an image name in FROM and COPY --from, tag included", async () => {
    const ctx = context({
      Dockerfile: "FROM no-such-base:1.0\nCOPY --from=no-such-tool /bin/busybox /copied-busybox\nCOPY hello.txt /hello.txt\n",
      "hello.txt": "hello\n",
    });
    const root = tempDir();
    const ref = `${registry}/busybox:latest`;
    const res = await build(["--build-context", `no-such-base:1.0=docker-image://${ref}`, "--build-context", `docker.io/library/no-such-tool:latest=docker-image://${ref}`, "-o", `${root}/out`, ctx], root);
    expectExit(res, 0);
    expect(existsSync(`${root}/out/bin/busybox`)).toBe(true);
    expect(readFileSync(`${root}/out/copied-busybox`)).toEqual(readFileSync(`${root}/out/bin/busybox`));
    expect(res.stderr).toContain(`[context no-such-base:1.0] load metadata for ${ref}`);
    expect(res.stderr).toContain(`[context no-such-tool] load metadata for ${ref}`);
    expect(res.stderr).not.toContain("docker.io/library/no-such");
  }, 240_000);

  test("oci-layout:// reads an image kitbuild exported, by tag (latest by default) and by digest", async () => {
    const root = tempDir();
    const layout = `${root}/layout`;
    const base = context({ Dockerfile: "FROM scratch\nCOPY first second /\n", first: "first\n", second: "second\n" });
    expectExit(await build(["-o", `type=oci,tar=false,dest=${layout}`, base], root), 0);
    const index = JSON.parse(readFileSync(`${layout}/index.json`, "utf8")) as { manifests: Array<{ digest: string }> };
    const digest = index.manifests[0]?.digest as string;
    const ctx = context({ Dockerfile: "FROM base\nCOPY third /\n", third: "third\n" });
    for (const [i, value] of [`oci-layout://${layout}`, `oci-layout://${layout}@${digest}`].entries()) {
      const res = await build(["--build-context", `base=${value}`, "-o", `${root}/out${i}`, ctx], root);
      expectExit(res, 0);
      expect(readdirSync(`${root}/out${i}`).sort()).toEqual(["first", "second", "third"]);
      expect(readFileSync(`${root}/out${i}/second`, "utf8")).toBe("second\n");
    }
    const notLayout = await build(["--build-context", `base=oci-layout://${root}/out0`, ctx], root);
    expectExit(notLayout, 1);
    expect(notLayout.stderr).toContain("is not an OCI layout: cannot read its index.json");
  }, 240_000);

  test("a git URL (#ref:subdir) is fetched by commit: cached while the branch stays, fetched again when it moves", async () => {
    const served = tempDir("kitbuild-git-");
    const work = `${served}/work`;
    const git = (...args: string[]) => execFileSync("git", ["-C", work, "-c", "user.name=t", "-c", "user.email=t@t", ...args]);
    mkdirSync(`${work}/sub`, { recursive: true });
    writeFileSync(`${work}/sub/s.txt`, "one\n");
    writeFileSync(`${work}/top.txt`, "top\n");
    execFileSync("git", ["init", "-q", "-b", "main", work]);
    git("add", ".");
    git("commit", "-q", "-m", "one");
    execFileSync("git", ["clone", "-q", "--bare", work, `${served}/repo.git`]);
    const server = serveGit(served);
    const ctx = context({ Dockerfile: "FROM scratch\nCOPY --from=src / /src/\n" });
    const root = tempDir();
    const url = `${server.url}/repo.git#main:sub`;
    const first = await build(["--build-context", `src=${url}`, "-o", `${root}/out1`, ctx], root);
    expectExit(first, 0);
    expect(readdirSync(`${root}/out1/src`)).toEqual(["s.txt"]);
    const again = await build(["--build-context", `src=${url}`, "-o", `${root}/out2`, ctx], root);
    expectExit(again, 0);
    expect(again.stderr).toMatch(/COPY --from=src \/ \/src\/\n#\d+ CACHED/);
    writeFileSync(`${work}/sub/s.txt`, "two\n");
    git("commit", "-q", "-am", "two");
    git("push", "-q", `${served}/repo.git`, "main");
    const moved = await build(["--build-context", `src=${url}`, "-o", `${root}/out3`, ctx], root);
    expectExit(moved, 0);
    expect(readFileSync(`${root}/out3/src/s.txt`, "utf8")).toBe("two\n");
  }, 240_000);

  test("an http URL is one file named context, as BuildKit's named contexts download it", async () => {
    const files = tempDir("kitbuild-www-");
    writeFileSync(`${files}/data.bin`, "payload\n");
    const server = serveFiles(files);
    const ctx = context({ Dockerfile: "FROM scratch\nCOPY --from=dl /context /got\n" });
    const root = tempDir();
    const res = await build(["--build-context", `dl=${server.url}/data.bin`, "-o", `${root}/out`, ctx], root);
    expectExit(res, 0);
    expect(readFileSync(`${root}/out/got`, "utf8")).toBe("payload\n");
    const withUser = server.url.replace("http://", "http://someone:hunter2-secret@");
    const shown = await build(["--build-context", `dl=${withUser}/data.bin`, "-o", `${root}/out2`, ctx], root);
    expectExit(shown, 0);
    expect(shown.stderr).toContain(`[context dl] ${server.url}/data.bin`);
    expect(shown.stderr).not.toContain("hunter2-secret");
    const failed = await build(["--build-context", `dl=${withUser}/missing.bin`, ctx], root);
    expectExit(failed, 1);
    expect(failed.stderr).toContain(`failed to download "${server.url}/missing.bin": 404`);
    expect(failed.stderr).not.toContain("hunter2-secret");
  }, 240_000);

  test("COPY --from a name that is no stage and no context says which image it resolves", async () => {
    const ctx = context({ Dockerfile: "FROM scratch\nCOPY --from=nosuchstage /x /x\n" });
    const root = tempDir();
    const res = await runKitbuild(["build", "--progress=plain", ctx], { env: { KITBUILD_ROOT: root, KITBUILD_REGISTRY_IDLE_TIMEOUT: "5" }, timeoutMs: 240_000 });
    expectExit(res, 1);
    expect(res.stderr).toContain("[internal] load metadata for docker.io/library/nosuchstage:latest");
  }, 240_000);

  test("bad values are usage errors; a missing directory is refused before building", async () => {
    const ctx = context({ Dockerfile: "FROM scratch\nCOPY --from=x / /\n" });
    const root = tempDir();
    const noEq = await build(["--build-context", "justaname", ctx], root);
    expectExit(noEq, 2);
    expect(noEq.stderr).toContain("invalid context value: justaname, expected key=value");
    const badName = await build(["--build-context", "Bad Name=/tmp", ctx], root);
    expectExit(badName, 2);
    expect(badName.stderr).toContain('invalid context name "Bad Name"');
    const missing = await build(["--build-context", `x=${root}/nope`, ctx], root);
    expectExit(missing, 1);
    expect(missing.stderr).toContain(`path "${root}/nope" not found`);
  }, 240_000);
});
