// ADD from URLs and git repositories, through the real solver, runners and snapshots, on graphs
// shaped as BuildKit's Dockerfile frontend builds them (a source op, then a copy from it). URL
// expectations come from `DOCKER_BUILDKIT=1 docker build -o type=local` (BuildKit v0.8) against
// the same kind of loopback server; git expectations from current BuildKit's git source (v0.8's
// Dockerfile frontend had no ADD <git>). Needs root (snapshots).
import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { lstatSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir } from "../harness.ts";
import { serveFiles, serveGit } from "../servers.ts";
import { copyAction, fileOp, solveGraph, source } from "./graph.ts";

const skip = skipBecause(!IS_ROOT, `ADD sources: ${NEEDS_ROOT}`);
const LAST_MODIFIED = Date.UTC(2003, 3, 5, 6, 7, 8) / 1000; // BuildKit gave the file mtime 1049522828
const sha256 = (b: string | Uint8Array) => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;

/** ADD <url> <dest> as the frontend writes it: the file, named, copied without unpacking. */
function addUrl(url: string, dest: string, attrs: Record<string, string> = {}) {
  const filename = attrs.filename ?? new URL(url).pathname.split("/").pop() ?? "__unnamed__";
  const http = source(`http ${url}`, url, { filename, ...attrs });
  return fileOp(`ADD ${url} ${dest}`, undefined, [copyAction(0, filename, dest, { followSymlinks: false, dirCopyContents: false, allowWildcard: false, allowEmptyWildcard: false })], http);
}

describe.skipIf(skip)("ADD <url>", () => {
  const files = tempDir("kitbuild-www-");
  writeFileSync(`${files}/file.txt`, "download me\n");
  utimesSync(`${files}/file.txt`, LAST_MODIFIED, LAST_MODIFIED);
  execFileSync("sh", ["-c", `mkdir t && echo x > t/x && tar -czf remote.tar.gz -C t . && rm -r t`], { cwd: files });
  const server = serveFiles(files);

  test("the file arrives with mode 0600 and the Last-Modified time; archives stay packed", async () => {
    const kitRoot = tempDir();
    for (const [url, dest, check] of [
      [`${server.url}/file.txt`, "/url/", "url/file.txt"],
      [`${server.url}/file.txt`, "/url-named", "url-named"],
      [`${server.url}/remote.tar.gz`, "/url-archive/", "url-archive/remote.tar.gz"],
    ] as const) {
      await solveGraph(addUrl(url, dest), { kitRoot }, async (s) => {
        await using view = await s.view();
        const st = lstatSync(`${view.path}/${check}`);
        expect({ check, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, isFile: st.isFile() }).toEqual({ check, mode: 0o600, uid: 0, gid: 0, isFile: true });
        if (!check.endsWith(".tar.gz")) expect(st.mtimeMs).toBe(LAST_MODIFIED * 1000);
      });
    }
  });

  test("--checksum: a match is kept and needs no download when cached; a mismatch fails and keeps nothing", async () => {
    const kitRoot = tempDir();
    const url = `${server.url}/file.txt`;
    const good = addUrl(url, "/c/", { checksum: sha256("download me\n") });
    await solveGraph(good, { kitRoot }, async (s) => {
      await using view = await s.view();
      expect(readFileSync(`${view.path}/c/file.txt`, "utf8")).toBe("download me\n");
    });
    const before = server.requests.length;
    await solveGraph(good, { kitRoot }, async (s) => expect(s.ran).toEqual([]));
    expect(server.requests.length).toBe(before);
    const sha512 = `sha512:${new Bun.CryptoHasher("sha512").update("download me\n").digest("hex")}`;
    await solveGraph(addUrl(url, "/c512/", { checksum: sha512 }), { kitRoot }, async (s) => {
      await using view = await s.view();
      expect(readFileSync(`${view.path}/c512/file.txt`, "utf8")).toBe("download me\n");
    });
    const bad512 = `sha512:${new Bun.CryptoHasher("sha512").update("other").digest("hex")}`;
    await expect(solveGraph(addUrl(url, "/c/", { checksum: bad512 }), { kitRoot }, async () => {})).rejects.toMatchObject({ code: "E_SOURCE_CHECKSUM" });
    const bad = addUrl(url, "/c/", { checksum: sha256("something else") });
    await expect(solveGraph(bad, { kitRoot }, async () => {})).rejects.toMatchObject({
      code: "E_SOURCE_CHECKSUM",
      message: `checksum mismatch for "${url}": got "${sha256("download me\n")}", expected "${sha256("something else")}"`,
    });
    expect(readdirSync(`${kitRoot}/content/ingest`)).toEqual([]);
  });

  test("without a filename, the Content-Disposition names the file; a missing file is a clear error", async () => {
    const kitRoot = tempDir();
    const url = `${server.url}/file.txt?disposition=named-by-server.txt`;
    const http = source("http", url, {});
    const graph = fileOp("ADD", undefined, [copyAction(0, "/", "/d/", { followSymlinks: false })], http);
    await solveGraph(graph, { kitRoot }, async (s) => {
      await using view = await s.view();
      expect(readdirSync(`${view.path}/d`)).toEqual(["named-by-server.txt"]);
    });
    await expect(solveGraph(addUrl(`${server.url}/missing.txt`, "/m"), { kitRoot }, async () => {})).rejects.toMatchObject({ code: "E_SOURCE_HTTP", message: expect.stringContaining("404") });
  });
});

/** A bare repository "repo.git" under a served root: main has README, sub/s.txt, two.txt; tag v1 lacks two.txt. */
function gitRepo(): { root: string; work: string } {
  const root = tempDir("kitbuild-git-");
  const work = `${root}/work`;
  const g = (...args: string[]) => execFileSync("git", ["-c", "user.email=t@t", "-c", "user.name=t", ...args], { cwd: work, stdio: "pipe" });
  mkdirSync(`${work}/sub`, { recursive: true });
  writeFileSync(`${work}/README`, "readme\n");
  writeFileSync(`${work}/sub/s.txt`, "s\n");
  writeFileSync(`${work}/run.sh`, "#!/bin/sh\n", { mode: 0o755 });
  g("init", "-q", "-b", "main");
  g("add", ".");
  g("commit", "-qm", "one");
  g("tag", "-a", "v1", "-m", "version 1");
  writeFileSync(`${work}/two.txt`, "two\n");
  g("add", ".");
  g("commit", "-qm", "two");
  execFileSync("git", ["clone", "-q", "--bare", work, `${root}/repo.git`]);
  return { root, work };
}

const head = (dir: string, rev = "HEAD") => execFileSync("git", ["-C", dir, "rev-parse", rev], { encoding: "utf8" }).trim();

describe.skipIf(skip || !Bun.which("git"))("ADD <git repository>", () => {
  const repo = gitRepo();
  const server = serveGit(repo.root);
  const remote = `git+${server.url}/repo.git`;
  const addGit = (attrs: Record<string, string>, dest = "/src/") => fileOp(`ADD git ${JSON.stringify(attrs)}`, undefined, [copyAction(0, "/", dest, { followSymlinks: false, allowWildcard: false })], source(`git ${JSON.stringify(attrs)}`, remote, attrs));

  test("a branch, a tag and a subdirectory check out without .git, files 0644/0755 as with umask 022", async () => {
    const kitRoot = tempDir();
    await solveGraph(addGit({}), { kitRoot }, async (s) => {
      await using view = await s.view();
      expect(readdirSync(`${view.path}/src`).sort()).toEqual(["README", "run.sh", "sub", "two.txt"]);
      expect(lstatSync(`${view.path}/src/README`).mode & 0o7777).toBe(0o644);
      expect(lstatSync(`${view.path}/src/run.sh`).mode & 0o7777).toBe(0o755);
      expect(lstatSync(`${view.path}/src/sub`).mode & 0o7777).toBe(0o755);
    });
    await solveGraph(addGit({ ref: "v1" }), { kitRoot }, async (s) => {
      await using view = await s.view();
      expect(readdirSync(`${view.path}/src`).sort()).toEqual(["README", "run.sh", "sub"]);
    });
    await solveGraph(addGit({ ref: "main", subdir: "sub" }), { kitRoot }, async (s) => {
      await using view = await s.view();
      expect(readdirSync(`${view.path}/src`)).toEqual(["s.txt"]);
    });
  });

  test("--keep-git-dir keeps a clone whose HEAD is the commit and whose origin is the remote", async () => {
    const kitRoot = tempDir();
    await solveGraph(addGit({ ref: "main", keepgitdir: "true" }), { kitRoot }, async (s) => {
      await using view = await s.view();
      const dir = `${view.path}/src`;
      expect(readdirSync(dir).sort()).toEqual([".git", "README", "run.sh", "sub", "two.txt"]);
      expect(head(dir)).toBe(head(repo.work, "main"));
      expect(head(dir, "refs/heads/main")).toBe(head(repo.work, "main"));
      expect(execFileSync("git", ["-C", dir, "remote", "get-url", "origin"], { encoding: "utf8" }).trim()).toBe(remote.slice(4));
    });
  });

  test("the cache follows the commit: unchanged is a hit, a moved branch is fetched again", async () => {
    const kitRoot = tempDir();
    const graph = addGit({ ref: "main" });
    await solveGraph(graph, { kitRoot }, async (s) => expect(s.ran.length).toBe(2));
    await solveGraph(graph, { kitRoot }, async (s) => expect(s.ran).toEqual([]));
    writeFileSync(`${repo.work}/three.txt`, "3\n");
    execFileSync("sh", ["-c", "git add . && git -c user.email=t@t -c user.name=t commit -qm three && git push -q ../repo.git main"], { cwd: repo.work });
    await solveGraph(graph, { kitRoot }, async (s) => {
      expect(s.ran.length).toBe(2);
      await using view = await s.view();
      expect(readFileSync(`${view.path}/src/three.txt`, "utf8")).toBe("3\n");
    });
    await expect(solveGraph(addGit({ ref: "no-such-branch" }), { kitRoot }, async () => {})).rejects.toMatchObject({ code: "E_SOURCE_GIT", message: expect.stringContaining('ref "no-such-branch" not found') });
  });

  test("a checksum pins the commit (or the annotated tag); an ssh remote without --ssh names the agent it needs", async () => {
    const kitRoot = tempDir();
    const tagged = head(repo.work, "v1^{commit}");
    await solveGraph(addGit({ ref: "v1", checksum: tagged.slice(0, 12) }), { kitRoot }, async (s) => {
      await using view = await s.view();
      expect(readdirSync(`${view.path}/src`).sort()).toEqual(["README", "run.sh", "sub"]);
    });
    await solveGraph(addGit({ ref: "v1", checksum: head(repo.work, "v1") }), { kitRoot }, async (s) => expect(s.ran).toEqual([]));
    await expect(solveGraph(addGit({ ref: "main", checksum: tagged }), { kitRoot }, async () => {})).rejects.toMatchObject({ code: "E_SOURCE_CHECKSUM", message: expect.stringContaining(`expected checksum to match "${tagged}"`) });
    const ssh = fileOp("ADD ssh", undefined, [copyAction(0, "/", "/x/")], source("git ssh", "git+git@example.invalid:org/repo.git"));
    await expect(solveGraph(ssh, { kitRoot }, async () => {})).rejects.toMatchObject({ code: "E_SOURCE_GIT", message: expect.stringContaining('no SSH key "default" forwarded from the client') });
  });
});
