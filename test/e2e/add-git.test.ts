// ADD <git repository> end to end (compiled binary): BuildKit's query forms (`?ref=`, `?subdir=`,
// `?keep-git-dir=`, `?submodules=`, docs: dockerfile reference, "Adding private git repositories"
// and the ADD git URL query syntax of dockerfile 1.18) against `git http-backend` on loopback, and
// git over ssh with --ssh against a loopback sshd (ssh://user@host:port/path, and user@host:path
// when port 22 is free). Needs root (builds need root in this version); no RUN step, so no runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { expectExit, IS_ROOT, NEEDS_ROOT, runKitbuild, skipBecause, tempDir } from "../harness.ts";
import { serveGit } from "../servers.ts";
import { portInUse, type Sshd, sshdUnavailable, startSshd } from "../fixtures/sshd.ts";

const skip = skipBecause(!IS_ROOT || !Bun.which("git"), `ADD git: ${NEEDS_ROOT} and git`);

/** Served repositories: lib.git (one file), and repo.git (main: sub/s.txt, top.txt, lib as a submodule; tag v1: sub/s.txt "v1"). */
function repositories(): string {
  const root = tempDir("kitbuild-git-");
  const g = (cwd: string, ...args: string[]) => execFileSync("git", ["-c", "user.email=t@t", "-c", "user.name=t", "-c", "protocol.file.allow=always", ...args], { cwd, stdio: "pipe" });
  mkdirSync(`${root}/lib-work`);
  writeFileSync(`${root}/lib-work/lib.txt`, "from the submodule\n");
  g(`${root}/lib-work`, "init", "-q", "-b", "main");
  g(`${root}/lib-work`, "add", ".");
  g(`${root}/lib-work`, "commit", "-qm", "lib");
  execFileSync("git", ["clone", "-q", "--bare", `${root}/lib-work`, `${root}/lib.git`]);
  const work = `${root}/work`;
  mkdirSync(`${work}/sub`, { recursive: true });
  writeFileSync(`${work}/sub/s.txt`, "v1\n");
  writeFileSync(`${work}/top.txt`, "top\n");
  g(work, "init", "-q", "-b", "main");
  g(work, "add", ".");
  g(work, "commit", "-qm", "one");
  g(work, "tag", "v1");
  writeFileSync(`${work}/sub/s.txt`, "v2\n");
  g(work, "submodule", "add", "-q", `${root}/lib.git`, "lib");
  // Relative, as real projects write them: resolved against the remote the build fetched from.
  g(work, "config", "-f", ".gitmodules", "submodule.lib.url", "../lib.git");
  g(work, "add", ".");
  g(work, "commit", "-qm", "two");
  execFileSync("git", ["clone", "-q", "--bare", work, `${root}/repo.git`]);
  return root;
}

async function build(dockerfile: string, root: string, extra: string[] = []) {
  const ctx = tempDir("kitbuild-ctx-");
  writeFileSync(`${ctx}/Dockerfile`, dockerfile);
  return runKitbuild(["build", "--progress=plain", ...extra, "-o", `${root}/out`, ctx], { env: { KITBUILD_ROOT: `${root}/cache` }, timeoutMs: 240_000 });
}

describe.skipIf(skip)("ADD <git> query forms (compiled binary)", () => {
  let url = "";
  beforeAll(() => {
    url = `${serveGit(repositories()).url}/repo.git`;
  });

  test("?ref= and ?subdir= pick the tag and the directory", async () => {
    const root = tempDir();
    const res = await build(`FROM scratch\nADD ${url}?ref=v1&subdir=sub /q/\n`, root);
    expectExit(res, 0);
    expect(readdirSync(`${root}/out/q`)).toEqual(["s.txt"]);
    expect(readFileSync(`${root}/out/q/s.txt`, "utf8")).toBe("v1\n");
  }, 240_000);

  test("submodules are checked out by default and left out with ?submodules=false", async () => {
    const root = tempDir();
    const res = await build(`FROM scratch\nADD ${url}?ref=main /with/\nADD ${url}?ref=main&submodules=false /without/\n`, root);
    expectExit(res, 0);
    expect(readFileSync(`${root}/out/with/lib/lib.txt`, "utf8")).toBe("from the submodule\n");
    expect(readFileSync(`${root}/out/without/sub/s.txt`, "utf8")).toBe("v2\n");
    expect(existsSync(`${root}/out/without/lib/lib.txt`)).toBe(false);
  }, 240_000);

  test("?keep-git-dir=true keeps .git; a conflicting --keep-git-dir is refused as BuildKit does", async () => {
    const root = tempDir();
    const res = await build(`FROM scratch\nADD ${url}?keep-git-dir=true /k/\n`, root);
    expectExit(res, 0);
    expect(existsSync(`${root}/out/k/.git`)).toBe(true);
    const conflict = await build(`FROM scratch\nADD --keep-git-dir=false ${url}?keep-git-dir=true /k/\n`, tempDir());
    expectExit(conflict, 1);
    expect(conflict.stderr).toContain("inconsistent keep-git-dir configuration");
  }, 240_000);

  test("a query BuildKit does not know is an error naming it", async () => {
    const res = await build(`FROM scratch\nADD ${url}?colour=blue /x/\n`, tempDir());
    expectExit(res, 1);
    expect(res.stderr).toContain('unexpected query "colour"');
  }, 240_000);
});

const noSshd = skip ? undefined : sshdUnavailable();
describe.skipIf(skip || skipBecause(noSshd !== undefined, `git over ssh: ${noSshd}`))("ADD <git> over ssh with --ssh (compiled binary)", () => {
  let sshd: Sshd;
  let repos = "";
  beforeAll(async () => {
    repos = repositories();
    sshd = await startSshd();
  });

  test("ssh://root@127.0.0.1:PORT/… is fetched with the --ssh key; without --ssh the error names the id", async () => {
    const root = tempDir();
    const remote = `ssh://root@127.0.0.1:${sshd.port}${repos}/repo.git`;
    const res = await build(`FROM scratch\nADD ${remote}#v1 /s/\n`, root, ["--ssh", `default=${sshd.clientKey}`]);
    expectExit(res, 0);
    expect(readFileSync(`${root}/out/s/sub/s.txt`, "utf8")).toBe("v1\n");
    const again = await build(`FROM scratch\nADD ${remote}#v1 /s/\n`, root, ["--ssh", `default=${sshd.clientKey}`]);
    expectExit(again, 0);
    expect(again.stderr).toMatch(/ADD ssh:\S+ \/s\/\n#\d+ CACHED/);
    const without = await build(`FROM scratch\nADD ${remote}#v1 /s/\n`, tempDir());
    expectExit(without, 1);
    // The address is shown without its user part, as every git address kitbuild prints.
    expect(without.stderr).toContain(`no SSH key "default" forwarded from the client for ssh://127.0.0.1:${sshd.port}${repos}/repo.git`);
    expect(without.stderr).toContain("hint: pass --ssh default");
  }, 240_000);

  test("a git named context over ssh:// is refused as BuildKit refuses it (only git@host:path is taken)", async () => {
    const remote = `ssh://root@127.0.0.1:${sshd.port}${repos}/repo.git#main`;
    const res = await build("FROM scratch\nCOPY --from=src /top.txt /from-context.txt\n", tempDir(), ["--ssh", `default=${sshd.clientKey}`, "--build-context", `src=${remote}`]);
    expectExit(res, 1);
    expect(res.stderr).toContain("unsupported context source ssh for src");
  }, 240_000);

  test("user@host:path (scp form) goes to port 22", async () => {
    if (await portInUse(22)) {
      console.warn("skipping the scp-form check: something else listens on 127.0.0.1:22");
      return;
    }
    const on22 = await startSshd(22);
    const root = tempDir();
    const res = await build(`FROM scratch\nADD root@127.0.0.1:${repos}/repo.git?ref=main&submodules=false /s/\n`, root, ["--ssh", `default=${on22.clientKey}`]);
    expectExit(res, 0);
    expect(readFileSync(`${root}/out/s/top.txt`, "utf8")).toBe("top\n");
  }, 240_000);
});
