// End to end: the compiled binary builds the walking-skeleton Dockerfile against the test registry
// with runc and overlayfs, and exports the root filesystem. Needs root and runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry, expectExit } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `e2e build tests: ${NEEDS_ROOT_AND_RUNC}`);

let registry = "";
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
});

const SKELETON = (reg: string) =>
  [
    `FROM ${reg}/busybox`,
    "ARG NAME=world",
    'ENV GREETING="hello ${NAME}"',
    "WORKDIR /app",
    "COPY . .",
    'RUN echo "$GREETING" > greeting.txt && ls -la > listing.txt',
    "",
  ].join("\n");

/** A context with the skeleton Dockerfile and files of several modes and owners. */
function skeletonContext(): string {
  const ctx = tempDir("kitbuild-ctx-");
  writeFileSync(`${ctx}/Dockerfile`, SKELETON(registry));
  writeFileSync(`${ctx}/notes.txt`, "some notes\n");
  chmodSync(`${ctx}/notes.txt`, 0o640);
  chownSync(`${ctx}/notes.txt`, 1234, 1234);
  mkdirSync(`${ctx}/bin`);
  writeFileSync(`${ctx}/bin/run.sh`, "#!/bin/sh\necho run\n");
  chmodSync(`${ctx}/bin/run.sh`, 0o755);
  return ctx;
}

function build(args: string[], root: string, opts: Parameters<typeof runKitbuild>[1] = {}) {
  return runKitbuild(["build", "--progress=plain", ...args], { ...opts, env: { KITBUILD_ROOT: root, ...opts.env } });
}

describe.skipIf(skip)("kitbuild build (compiled binary)", () => {
  test("builds the skeleton Dockerfile and exports the filesystem", async () => {
    const ctx = skeletonContext();
    const work = tempDir();
    const res = await build(["-o", `type=local,dest=${work}/out`, ctx], `${work}/root`);
    expect(res.stderr).toContain("[4/4] RUN echo \"hello world\" > greeting.txt");
    expectExit(res, 0);
    const out = `${work}/out`;
    expect(readFileSync(`${out}/app/greeting.txt`, "utf8")).toBe("hello world\n");
    // The context's files arrive with their modes, owned by root as in BuildKit.
    const notes = lstatSync(`${out}/app/notes.txt`);
    expect(notes.mode & 0o7777).toBe(0o640);
    expect(readFileSync(`${out}/app/notes.txt`, "utf8")).toBe("some notes\n");
    expect(lstatSync(`${out}/app/bin/run.sh`).mode & 0o7777).toBe(0o755);
    const listing = readFileSync(`${out}/app/listing.txt`, "utf8");
    expect(listing).toMatch(/-rw-r-----\s+1 root\s+root\s+11 .* notes\.txt/);
    expect(listing).toMatch(/-rw-r--r--\s+1 root\s+root\s+\d+ .* Dockerfile/);
    // The runtime's /etc bind targets leave nothing behind: /etc is what the image had.
    expect(readdirSync(`${out}/etc`).sort()).toEqual(["group", "passwd"]);
    // The base image's hardlinked applets stay hardlinks.
    expect(lstatSync(`${out}/bin/sh`).ino).toBe(lstatSync(`${out}/bin/busybox`).ino);
  });

  test("a --build-arg overrides the ARG default, and unchanged steps come from the cache", async () => {
    const ctx = skeletonContext();
    const work = tempDir();
    const root = `${work}/root`;
    const first = await build(["-o", `${work}/a`, ctx], root);
    expectExit(first, 0);
    const second = await build(["--build-arg", "NAME=kitbuild", "-o", `type=local,dest=${work}/b`, ctx], root);
    expectExit(second, 0);
    expect(readFileSync(`${work}/b/app/greeting.txt`, "utf8")).toBe("hello kitbuild\n");
    expect(second.stderr).toMatch(/\[3\/4\] COPY \. \.\n#\d+ CACHED/);
    expect(second.stderr).not.toMatch(/RUN echo "hello kitbuild".*\n#\d+ CACHED/);
    const third = await build(["-o", `${work}/c`, ctx], root);
    expect(third.stderr).toMatch(/RUN echo "hello world".*\n#\d+ CACHED/);
    expect(readFileSync(`${work}/c/app/greeting.txt`, "utf8")).toBe("hello world\n");
  });

  test("reads the Dockerfile from stdin with -f -", async () => {
    const ctx = skeletonContext();
    const work = tempDir();
    const res = await build(["-f", "-", "--build-arg", "NAME=stdin", "-o", `${work}/out`, ctx], `${work}/root`, { stdin: SKELETON(registry) });
    expectExit(res, 0);
    expect(readFileSync(`${work}/out/app/greeting.txt`, "utf8")).toBe("hello stdin\n");
  });

  test("a failing RUN exits 1 with the instruction, its exit code and its last output", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    const lines = [`FROM ${registry}/busybox`, "RUN echo first step", "RUN echo about to fail; echo on stderr >&2; exit 3", "RUN echo never runs", ""];
    writeFileSync(`${ctx}/Dockerfile`, lines.join("\n"));
    const work = tempDir();
    const res = await build(["-o", `${work}/out`, ctx], `${work}/root`);
    expectExit(res, 1);
    const message = 'process "/bin/sh -c echo about to fail; echo on stderr >&2; exit 3" did not complete successfully: exit code: 3';
    expect(res.stderr).toContain(`ERROR: failed to solve: ${message}`);
    // The step's last output, from both streams (whose relative order two pipes cannot keep).
    const report = / > \[3\/4\] RUN echo about to fail; echo on stderr >&2; exit 3:\n((?:[\d.]+ .*\n)+)------/.exec(res.stderr);
    expect(report?.[1]?.split("\n").filter(Boolean).map((l) => l.replace(/^[\d.]+ /, "")).sort()).toEqual(["about to fail", "on stderr"]);
    expect(res.stderr).toContain("Dockerfile:3\n");
    expect(res.stderr).toContain("   3 | >>> RUN echo about to fail; echo on stderr >&2; exit 3");
    expect(res.stderr).not.toContain("never runs\n#");
    expect(() => lstatSync(`${work}/out`)).toThrow();
  });

  test("Ctrl-C during a RUN exits 130 and leaves no mount, container or active snapshot", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nRUN echo started; sleep 60; echo finished\n`);
    const work = tempDir();
    const root = `${work}/root`;
    const runcRoot = `${work}/runc`;
    let sent = false;
    const res = await build([ctx], root, {
      env: { KITBUILD_RUNC_ROOT: runcRoot },
      onStderr: (text, child) => {
        if (!sent && /#\d+ [\d.]+ started\n/.test(text)) {
          sent = true;
          child.kill("SIGINT");
        }
      },
    });
    expect(sent).toBe(true);
    expectExit(res, 130);
    expect(res.stderr).toContain("CANCELED");
    expect(readFileSync("/proc/mounts", "utf8")).not.toContain(root);
    const list = Bun.spawnSync(["runc", "--root", runcRoot, "list", "--quiet"]);
    expect(list.stdout.toString().trim()).toBe("");
    expect(readdirSync(`${root}/mounts`)).toEqual([]);
    expect(readdirSync(`${root}/executor`)).toEqual([]);
    const { Database } = await import("bun:sqlite");
    const db = new Database(`${root}/index.db`, { readonly: true });
    expect(db.query("SELECT count(*) AS n FROM snapshots WHERE state = 'active'").get()).toEqual({ n: 0 });
    db.close();
  });

  test("settings come from the config file, the environment winning; an unknown one is refused", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nRUN seq 1 100\n`);
    const work = tempDir();
    const cfg = `${work}/config.toml`;
    writeFileSync(cfg, `root = "${work}/file-root"\n[step-log]\nmax-size = 64\n`);
    const res = await runKitbuild(["build", "--progress=plain", ctx], { env: { KITBUILD_CONFIG: cfg } });
    expectExit(res, 0);
    expect(readdirSync(`${work}/file-root`)).toContain("index.db");
    expect(res.stderr).toContain("[output clipped, log limit 64B reached]");
    const env = await runKitbuild(["build", "--progress=plain", "--no-cache", ctx], { env: { KITBUILD_CONFIG: cfg, KITBUILD_ROOT: `${work}/env-root`, KITBUILD_STEP_LOG_MAX_SIZE: "-1" } });
    expectExit(env, 0);
    expect(readdirSync(`${work}/env-root`)).toContain("index.db");
    expect(env.stderr).not.toContain("output clipped");
    writeFileSync(cfg, 'snapshoter = "native"\n');
    const bad = await runKitbuild(["build", ctx], { env: { KITBUILD_CONFIG: cfg } });
    expectExit(bad, 2);
    expect(bad.stderr).toContain(`ERROR: unknown setting "snapshoter" in the config file "${cfg}"`);
    expect(bad.stderr).toContain("hint: the settings are root, snapshotter");
  });

  test("a Dockerfile syntax error names the file and line, and exits 1", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nRUN echo ok\nCOPPY a b\n`);
    const work = tempDir();
    const res = await build([ctx], `${work}/root`);
    expectExit(res, 1);
    expect(res.stderr).toContain("unknown instruction: COPPY");
    expect(res.stderr).toContain("Dockerfile:3");
    expect(res.stderr).toContain("hint: did you mean COPY?");
  });
});

describe("kitbuild command line (compiled binary)", () => {
  test("--version prints kitbuild's version and commit, Bun's version and runc", async () => {
    const res = await runKitbuild(["--version"]);
    expectExit(res, 0);
    const pkg = JSON.parse(readFileSync(`${import.meta.dir}/../../package.json`, "utf8")) as { version: string };
    expect(res.stdout).toContain(`kitbuild ${pkg.version} (commit `);
    expect(res.stdout).not.toContain("(commit dev)");
    expect(res.stdout).toContain(`bun ${Bun.version}`);
    expect(res.stdout).toMatch(/runc (\S+ \(\/|not found)/);
  });

  test("a usage error exits 2 and says how to fix it", async () => {
    const res = await runKitbuild(["build", "--progress=fancy", "."]);
    expectExit(res, 2);
    expect(res.stderr).toContain('invalid --progress "fancy"');
    expect(res.stderr).toContain("hint: use one of auto, tty, plain, rawjson, quiet");
    const none = await runKitbuild(["build"]);
    expectExit(none, 2);
    expect(none.stderr).toContain("a build context is required");
  });

  test("a flag the command does not take is refused, never ignored", async () => {
    const unknown = await runKitbuild(["build", "--nope", "."]);
    expectExit(unknown, 2);
    expect(unknown.stderr).toContain("unknown flag: --nope");
    const push = await runKitbuild(["debug", "llb", "--push", "."]);
    expectExit(push, 2);
    expect(push.stderr).toContain("unknown flag: --push\nhint: --push is a flag of kitbuild build; see kitbuild debug llb --help");
    const help = await runKitbuild(["build", "--help"]);
    expectExit(help, 0);
    for (const flag of ["--file", "--build-arg", "--output", "--no-cache-filter", "--metadata-file", "--allow"]) expect(help.stdout).toContain(flag);
  });

  test("a missing Dockerfile is a clear error", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    const res = await runKitbuild(["--progress=plain", ctx], { env: { KITBUILD_ROOT: `${ctx}/root` } });
    expectExit(res, 1);
    expect(res.stderr).toContain(`failed to read dockerfile "${ctx}/Dockerfile": no such file`);
  });
});
