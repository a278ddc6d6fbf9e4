// Build contexts that are not a local directory, with the compiled binary against real servers on
// loopback: a git repository over smart HTTP (`git http-backend`), a static server with a tarball
// and a plain Dockerfile, and stdin (tar in every compression, or a Dockerfile). Expected results
// follow buildx and BuildKit: a git context is the commit's tree (the subdirectory after `:` as
// its root, `-f` relative to it), without .git unless BUILDKIT_CONTEXT_KEEP_GIT_DIR=1 (BuildKit's
// dockerui context detection); a URL whose body is a tar archive is the context, anything else is
// the Dockerfile and the context holds only it, as a file named "context" (dockerui); stdin is
// sniffed the same way, a Dockerfile there with an empty context (buildx's build/opt.go). Needs
// root (snapshots); no image is pulled (FROM scratch).
import { describe, expect, test } from "bun:test";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, lstatSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { BINARY, IS_ROOT, NEEDS_ROOT, expectExit, runKitbuild, skipBecause, tempDir, type RunResult } from "../harness.ts";
import { makeGitRepo, serveFiles, serveGit, serveStalled } from "../servers.ts";
import { sshdUnavailable, startSshd } from "../fixtures/sshd.ts";

const skip = skipBecause(!IS_ROOT, `remote contexts: ${NEEDS_ROOT}`);

/** Each build gets its own TMPDIR, so what a build leaves behind there can be asserted. */
type Kit = { root: string; tmp: string; out: () => string };

function kit(): Kit {
  const root = tempDir("kitbuild-root-");
  const tmp = tempDir("kitbuild-tmp-");
  let n = 0;
  return { root, tmp, out: () => `${tempDir("kitbuild-out-")}/out${n++}` };
}

function build(k: Kit, args: string[]): Promise<RunResult> {
  return runKitbuild(["build", "--progress=plain", ...args], { env: { KITBUILD_ROOT: k.root, TMPDIR: k.tmp }, timeoutMs: 240_000 });
}

/** Runs the binary with `file` as its stdin (bytes, which runKitbuild's string stdin cannot carry). */
function buildFromStdin(k: Kit, args: string[], file: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(BINARY, ["build", "--progress=plain", ...args], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/root", NO_COLOR: "1", TZ: "UTC", KITBUILD_ROOT: k.root, TMPDIR: k.tmp },
      stdio: [openSync(file, "r"), "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => (stdout += d));
    child.stderr?.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 240_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The files of an exported tree, path → content, sorted. */
function filesOf(dir: string, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(`${dir}/${prefix}`, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = `${prefix}${e.name}`;
    if (e.isDirectory()) Object.assign(out, filesOf(dir, `${rel}/`));
    else out[rel] = readFileSync(`${dir}/${rel}`, "utf8");
  }
  return out;
}

const COPY_ALL = "FROM scratch\nCOPY . /ctx/\n";

describe.skipIf(skip)("git contexts", () => {
  const projects = tempDir("kitbuild-git-");
  const server = serveGit(projects);
  const repo = makeGitRepo(projects, "app");
  const first = repo.commit({ Dockerfile: COPY_ALL, "a.txt": "a1\n", "sub/Dockerfile": "FROM scratch\nCOPY . /sub/\n", "sub/s.txt": "s1\n", "sub/alt.Dockerfile": "FROM scratch\nCOPY s.txt /alt/\n" }, { tag: "v1" });
  const second = repo.commit({ "a.txt": "a2\n" });
  repo.commit({ "b.txt": "feature\n" }, { branch: "feature" });
  const url = `${server.url}/app.git`;

  test("the default branch, a tag, a commit, another branch: each the tree it names, without .git", async () => {
    const k = kit();
    const cases: Array<[string, Record<string, string>]> = [
      [url, { "ctx/Dockerfile": COPY_ALL, "ctx/a.txt": "a2\n" }],
      [`${url}#v1`, { "ctx/Dockerfile": COPY_ALL, "ctx/a.txt": "a1\n" }],
      [`${url}#${first}`, { "ctx/Dockerfile": COPY_ALL, "ctx/a.txt": "a1\n" }],
      [`${url}#feature`, { "ctx/Dockerfile": COPY_ALL, "ctx/a.txt": "a2\n", "ctx/b.txt": "feature\n" }],
    ];
    for (const [context, expected] of cases) {
      const out = k.out();
      const res = await build(k, ["-o", `type=local,dest=${out}`, context]);
      expectExit(res, 0);
      expect(res.stderr).toContain(`[internal] load git source ${context}`);
      const files = filesOf(out);
      // sub/ is there too; only the top level is compared here.
      for (const name of Object.keys(files)) if (name.startsWith("ctx/sub/")) delete files[name];
      expect({ context, files }).toEqual({ context, files: expected });
    }
    expect(readdirSync(k.tmp)).toEqual([]);
  }, 240_000);

  test("#ref:subdir is the context's root, with its Dockerfile; -f is relative to it", async () => {
    const k = kit();
    const out = k.out();
    expectExit(await build(k, ["-o", `type=local,dest=${out}`, `${url}#main:sub`]), 0);
    expect(filesOf(out)).toEqual({ "sub/Dockerfile": "FROM scratch\nCOPY . /sub/\n", "sub/alt.Dockerfile": "FROM scratch\nCOPY s.txt /alt/\n", "sub/s.txt": "s1\n" });
    const alt = k.out();
    expectExit(await build(k, ["-f", "alt.Dockerfile", "-o", `type=local,dest=${alt}`, `${url}#main:sub`]), 0);
    expect(filesOf(alt)).toEqual({ "alt/s.txt": "s1\n" });
    // An absolute -f is a Dockerfile on this machine (buildx sends it as the dockerfile input).
    const local = `${tempDir()}/Local.Dockerfile`;
    writeFileSync(local, "FROM scratch\nCOPY s.txt /local/\n");
    const abs = k.out();
    expectExit(await build(k, ["-f", local, "-o", `type=local,dest=${abs}`, `${url}#main:sub`]), 0);
    expect(filesOf(abs)).toEqual({ "local/s.txt": "s1\n" });
  }, 240_000);

  test("BUILDKIT_CONTEXT_KEEP_GIT_DIR=1 keeps .git, checked out at the commit", async () => {
    const k = kit();
    const out = k.out();
    expectExit(await build(k, ["--build-arg", "BUILDKIT_CONTEXT_KEEP_GIT_DIR=1", "-o", `type=local,dest=${out}`, url]), 0);
    expect(existsSync(`${out}/ctx/.git`)).toBe(true);
    const head = execFileSync("git", ["--git-dir", `${out}/ctx/.git`, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    expect(head).toBe(second);
  }, 240_000);

  test("the same commit again is a cache hit; a new commit is fetched and seen", async () => {
    const projects2 = tempDir("kitbuild-git-");
    const server2 = serveGit(projects2);
    const r = makeGitRepo(projects2, "moving");
    r.commit({ Dockerfile: COPY_ALL, "v.txt": "one\n" });
    const k = kit();
    const ctx = `${server2.url}/moving.git`;
    const out1 = k.out();
    const res1 = await build(k, ["-o", `type=local,dest=${out1}`, ctx]);
    expectExit(res1, 0);
    expect(res1.stderr).not.toContain("CACHED");
    const res2 = await build(k, ["-o", `type=local,dest=${k.out()}`, ctx]);
    expectExit(res2, 0);
    expect(res2.stderr).toMatch(/#\d+ \[1\/1\] COPY \. \/ctx\/\n#\d+ CACHED/);
    r.commit({ "v.txt": "two\n" });
    const out3 = k.out();
    const res3 = await build(k, ["-o", `type=local,dest=${out3}`, ctx]);
    expectExit(res3, 0);
    expect(res3.stderr).not.toContain("CACHED");
    expect(readFileSync(`${out3}/ctx/v.txt`, "utf8")).toBe("two\n");
  }, 240_000);

  test("submodules are checked out too (a relative address resolved against the remote), with or without .git kept", async () => {
    const lib = makeGitRepo(projects, "lib");
    lib.commit({ "lib.txt": "from the submodule\n" });
    const withSub = makeGitRepo(projects, "withsub");
    // `../lib.git` stays relative in .gitmodules; here it resolves to the bare repository beside it.
    execFileSync("git", ["-c", "protocol.file.allow=always", "submodule", "add", "-q", "../lib.git", "vendor/lib"], { cwd: `${projects}/withsub.work`, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: projects } });
    withSub.commit({ Dockerfile: COPY_ALL });
    const k = kit();
    const out = k.out();
    expectExit(await build(k, ["-o", `type=local,dest=${out}`, `${server.url}/withsub.git`]), 0);
    expect(readFileSync(`${out}/ctx/vendor/lib/lib.txt`, "utf8")).toBe("from the submodule\n");
    expect(existsSync(`${out}/ctx/.git`)).toBe(false);
    const kept = k.out();
    expectExit(await build(k, ["--build-arg", "BUILDKIT_CONTEXT_KEEP_GIT_DIR=1", "-o", `type=local,dest=${kept}`, `${server.url}/withsub.git`]), 0);
    expect(readFileSync(`${kept}/ctx/vendor/lib/lib.txt`, "utf8")).toBe("from the submodule\n");
    const status = execFileSync("git", ["-C", `${kept}/ctx`, "submodule", "status"], { encoding: "utf8" });
    expect(status).toMatch(/^ [0-9a-f]{40} vendor\/lib/);
  }, 240_000);

  test("query forms as BuildKit's dockerui reads them: ?tag=, ?branch=, ?subdir=, ?keep-git-dir, ?submodules=false", async () => {
    const k = kit();
    const tagged = k.out();
    expectExit(await build(k, ["-o", `type=local,dest=${tagged}`, `${url}?tag=v1&subdir=sub`]), 0);
    expect(filesOf(tagged)["sub/s.txt"]).toBe("s1\n");
    const branch = k.out();
    expectExit(await build(k, ["-o", `type=local,dest=${branch}`, `${url}?branch=feature&keep-git-dir`]), 0);
    expect(readFileSync(`${branch}/ctx/b.txt`, "utf8")).toBe("feature\n");
    expect(existsSync(`${branch}/ctx/.git`)).toBe(true);
    const noSub = k.out();
    expectExit(await build(k, ["-o", `type=local,dest=${noSub}`, `${server.url}/withsub.git?submodules=false`]), 0);
    expect(readdirSync(`${noSub}/ctx/vendor/lib`)).toEqual([]);
    const bad = await build(k, [`${url}?tag=v1&branch=main`]);
    expectExit(bad, 1);
    expect(bad.stderr).toContain(`invalid git context "${url}?tag=v1&branch=main": branch conflicts with tag`);
  }, 240_000);

  test("Ctrl-C while git waits on the server: exit 130, git stopped, TMPDIR left empty", async () => {
    const stalled = serveStalled(new TextEncoder().encode("001e# service=git-upload-pack\n0000"), 10);
    const k = kit();
    let interrupted = false;
    const res = await runKitbuild(["build", "--progress=plain", `${stalled.url}/slow.git`], {
      env: { KITBUILD_ROOT: k.root, TMPDIR: k.tmp },
      timeoutMs: 120_000,
      onStderr: (text, child) => {
        if (!interrupted && text.includes("[internal] load git source")) {
          interrupted = true;
          void stalled.started.then(() => setTimeout(() => child.kill("SIGINT"), 300));
        }
      },
    });
    expect(interrupted).toBe(true);
    expectExit(res, 130);
    expect(readdirSync(k.tmp)).toEqual([]);
    // No git of this build is left waiting on the server.
    const gits = execFileSync("sh", ["-c", `pgrep -af "[g]it.*${stalled.url}/slow.git" || true`], { encoding: "utf8" });
    expect(gits.trim()).toBe("");
  }, 240_000);

  test("a missing repository or ref fails naming the address, credentials left out; nothing is left in TMPDIR", async () => {
    const k = kit();
    const missing = await build(k, [`${server.url.replace("http://", "http://alice:s3cret@")}/nothere.git`]);
    expectExit(missing, 1);
    expect(missing.stderr).toContain(`${server.url}/nothere.git`);
    expect(missing.stderr).not.toContain("s3cret");
    const badRef = await build(k, [`${url}#no-such-branch`]);
    expectExit(badRef, 1);
    expect(badRef.stderr).toContain(`ref "no-such-branch" not found in ${url}`);
    const badSubdir = await build(k, [`${url}#main:nope`]);
    expectExit(badSubdir, 1);
    expect(badSubdir.stderr).toContain(`"nope" is not a directory in ${url}`);
    expect(readdirSync(k.tmp)).toEqual([]);
  }, 240_000);
});

describe.skipIf(skip)("URL contexts", () => {
  const www = tempDir("kitbuild-www-");
  const server = serveFiles(www);
  const tarball = (files: Record<string, string>, name: string) => {
    const src = tempDir("kitbuild-tarsrc-");
    for (const [p, text] of Object.entries(files)) writeFileSync(`${src}/${p}`, text);
    execFileSync("tar", ["-czf", `${www}/${name}`, "-C", src, "."]);
  };

  test("a tarball URL is the context (its Dockerfile inside): cached when unchanged, seen when changed", async () => {
    // The archive's .dockerignore applies, as a local context's does.
    tarball({ Dockerfile: COPY_ALL, "t.txt": "one\n", "secret.txt": "no\n", ".dockerignore": "secret.txt\n.dockerignore\n" }, "ctx.tar.gz");
    const k = kit();
    const out1 = k.out();
    const res1 = await build(k, ["-o", `type=local,dest=${out1}`, `${server.url}/ctx.tar.gz`]);
    expectExit(res1, 0);
    expect(res1.stderr).toContain("[internal] load remote build context");
    expect(filesOf(out1)).toEqual({ "ctx/Dockerfile": COPY_ALL, "ctx/t.txt": "one\n" });
    const res2 = await build(k, ["-o", `type=local,dest=${k.out()}`, `${server.url}/ctx.tar.gz`]);
    expectExit(res2, 0);
    expect(res2.stderr).toMatch(/#\d+ \[1\/1\] COPY \. \/ctx\/\n#\d+ CACHED/);
    tarball({ Dockerfile: COPY_ALL, "t.txt": "two\n" }, "ctx.tar.gz");
    const out3 = k.out();
    const res3 = await build(k, ["-o", `type=local,dest=${out3}`, `${server.url}/ctx.tar.gz`]);
    expectExit(res3, 0);
    expect(res3.stderr).not.toContain("CACHED");
    expect(readFileSync(`${out3}/ctx/t.txt`, "utf8")).toBe("two\n");
    expect(readdirSync(k.tmp)).toEqual([]);
  }, 240_000);

  test("a URL whose body is not an archive is the Dockerfile; the context is that file, named \"context\" (BuildKit's dockerui)", async () => {
    const text = "FROM scratch\nCOPY . /ctx/\n";
    writeFileSync(`${www}/Dockerfile`, text);
    const k = kit();
    const out = k.out();
    const res = await build(k, ["-o", `type=local,dest=${out}`, `${server.url}/Dockerfile`]);
    expectExit(res, 0);
    expect(filesOf(out)).toEqual({ "ctx/context": text });
    expect(lstatSync(`${out}/ctx/context`).mode & 0o7777).toBe(0o600);
  }, 240_000);

  test("Ctrl-C while a URL context downloads: exit 130, the partial download removed from TMPDIR", async () => {
    const stalled = serveStalled(new Uint8Array(1 << 20), 64 << 10);
    const k = kit();
    let interrupted = false;
    let tmpWhileFetching = 0;
    const res = await runKitbuild(["build", "--progress=plain", `${stalled.url}/ctx.tar`], {
      env: { KITBUILD_ROOT: k.root, TMPDIR: k.tmp },
      timeoutMs: 120_000,
      onStderr: (text, child) => {
        // Once the server has sent the first bytes (the rest never comes).
        if (!interrupted && text.includes("[internal] load remote build context")) {
          interrupted = true;
          void stalled.started.then(() => setTimeout(() => {
            tmpWhileFetching = readdirSync(k.tmp).length;
            child.kill("SIGINT");
          }, 300));
        }
      },
    });
    expect(interrupted).toBe(true);
    expectExit(res, 130);
    expect(tmpWhileFetching).toBe(1);
    expect(readdirSync(k.tmp)).toEqual([]);
  }, 240_000);

  test("a failing URL names it without its credentials; exit 1; nothing left in TMPDIR", async () => {
    const k = kit();
    const res = await build(k, [`${server.url.replace("http://", "http://bob:hunter2@")}/missing.tar.gz`]);
    expectExit(res, 1);
    expect(res.stderr).toContain(`failed to fetch the build context "${server.url}/missing.tar.gz": 404`);
    expect(res.stderr).not.toContain("hunter2");
    expect(res.stderr).not.toContain("    at ");
    expect(readdirSync(k.tmp)).toEqual([]);
  }, 240_000);
});

describe.skipIf(skip)("stdin contexts", () => {
  const src = tempDir("kitbuild-stdin-src-");
  writeFileSync(`${src}/Dockerfile`, COPY_ALL);
  writeFileSync(`${src}/f.txt`, "from stdin\n");
  const archives = tempDir("kitbuild-stdin-");
  execFileSync("tar", ["-cf", `${archives}/ctx.tar`, "-C", src, "."]);
  for (const [tool, ext] of [["gzip", "gz"], ["bzip2", "bz2"], ["xz", "xz"], ["zstd", "zst"]] as const) {
    execFileSync("sh", ["-c", `${tool} -c < ctx.tar > ctx.tar.${ext}`], { cwd: archives });
  }

  test("a tar archive on stdin, uncompressed or gzip/bzip2/xz/zstd, is the context; the same archive again is cached", async () => {
    const k = kit();
    let n = 0;
    for (const name of ["ctx.tar", "ctx.tar.gz", "ctx.tar.bz2", "ctx.tar.xz", "ctx.tar.zst"]) {
      const out = k.out();
      const res = await buildFromStdin(k, ["-o", `type=local,dest=${out}`, "-"], `${archives}/${name}`);
      expectExit(res, 0);
      expect({ name, files: filesOf(out) }).toEqual({ name, files: { "ctx/Dockerfile": COPY_ALL, "ctx/f.txt": "from stdin\n" } });
      // The first build copies; every later one (other bytes, same files) is a cache hit.
      if (n++ > 0) expect(res.stderr).toMatch(/#\d+ \[1\/1\] COPY \. \/ctx\/\n#\d+ CACHED/);
    }
    expect(readdirSync(k.tmp)).toEqual([]);
  }, 240_000);

  test("a Dockerfile on stdin (kitbuild build - < Dockerfile) builds with an empty context", async () => {
    const k = kit();
    const file = `${tempDir()}/Dockerfile`;
    writeFileSync(file, "FROM scratch\nCOPY . /empty/\n");
    const out = k.out();
    expectExit(await buildFromStdin(k, ["-o", `type=local,dest=${out}`, "-"], file), 0);
    expect(readdirSync(`${out}/empty`)).toEqual([]);
  }, 240_000);

  test("stdin for both the context and -f is a usage error, as in buildx; so is -f with a Dockerfile on stdin", async () => {
    const k = kit();
    const res = await build(k, ["-f", "-", "-"]);
    expectExit(res, 2);
    expect(res.stderr).toContain("can't use stdin for both build context and dockerfile");
    const file = `${tempDir()}/Dockerfile`;
    writeFileSync(file, "FROM scratch\n");
    const ambiguous = await buildFromStdin(k, ["-f", "Other.Dockerfile", "-"], file);
    expectExit(ambiguous, 2);
    expect(ambiguous.stderr).toContain("ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles");
    expect(readdirSync(k.tmp)).toEqual([]);
  }, 240_000);
});

const noSshd = skip ? undefined : sshdUnavailable();
describe.skipIf(skip || skipBecause(noSshd !== undefined, `git contexts over ssh: ${noSshd}`))("git contexts over ssh", () => {
  test("ssh://root@127.0.0.1:PORT/… is fetched with the --ssh agent; without --ssh the error names the id", async () => {
    const sshd = await startSshd();
    const repos = tempDir("kitbuild-ssh-repos-");
    makeGitRepo(repos, "app").commit({ Dockerfile: COPY_ALL, "over-ssh.txt": "yes\n" });
    const remote = `ssh://root@127.0.0.1:${sshd.port}${repos}/app.git`;
    const k = kit();
    const out = k.out();
    expectExit(await build(k, ["--ssh", `default=${sshd.clientKey}`, "-o", `type=local,dest=${out}`, `${remote}#main`]), 0);
    expect(readFileSync(`${out}/ctx/over-ssh.txt`, "utf8")).toBe("yes\n");
    const without = await build(k, [`${remote}#main`]);
    expectExit(without, 1);
    // The address is shown without its user info (as every git address in a message).
    expect(without.stderr).toContain(`no SSH key "default" forwarded from the client for ssh://127.0.0.1:${sshd.port}${repos}/app.git`);
    expect(readdirSync(k.tmp).filter((n) => n.startsWith("kitbuild-context-"))).toEqual([]);
  }, 240_000);
});
