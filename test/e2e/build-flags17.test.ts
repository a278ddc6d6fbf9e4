// buildx's --ulimit, --shm-size and --progress=none through the compiled binary, and what the plain
// progress prints: the -f file's name in "load build definition", CANCELED steps before the error
// report. Needs root and runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, expectExit, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `e2e build flag tests (issue 17): ${NEEDS_ROOT_AND_RUNC}`);

let registry = "";
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
});

/** Builds `lines` (after FROM busybox) from `file` in a fresh context and cache root. */
async function build(lines: string[], args: string[] = [], file = "Dockerfile") {
  const ctx = tempDir("kitbuild-ctx-");
  writeFileSync(`${ctx}/${file}`, [`FROM ${registry}/busybox`, ...lines, ""].join("\n"));
  const work = tempDir();
  const out = `${work}/out`;
  const fileArgs = file === "Dockerfile" ? [] : ["-f", `${ctx}/${file}`];
  const res = await runKitbuild(["build", "--progress=plain", "-o", out, ...fileArgs, ...args, ctx], {
    env: { KITBUILD_ROOT: `${work}/root`, KITBUILD_RUNC_ROOT: `${work}/runc` },
  });
  return { res, read: (p: string) => readFileSync(`${out}${p}`, "utf8") };
}

describe.skipIf(skip)("issue 17: --ulimit, --shm-size, --progress=none, plain progress details", () => {
  test("--ulimit sets the RUN steps' limits (soft, hard, unlimited); a step without it keeps the defaults", async () => {
    const run = ["RUN ulimit -Sn > /sn && ulimit -Hn > /hn && ulimit -Su > /su && ulimit -Hu > /hu && ulimit -Hc > /hc"];
    const { res, read } = await build(run, ["--ulimit", "nofile=512:4096", "--ulimit", "nproc=300", "--ulimit", "core=-1"]);
    expectExit(res, 0);
    expect(read("/sn").trim()).toBe("512");
    expect(read("/hn").trim()).toBe("4096");
    expect(read("/su").trim()).toBe("300");
    expect(read("/hu").trim()).toBe("300");
    expect(read("/hc").trim()).toBe("unlimited");

    const plain = await build(["RUN ulimit -Sn > /sn"]);
    expectExit(plain.res, 0);
    expect(plain.read("/sn").trim()).toBe("1024");
  }, 240_000);

  test("a changed --ulimit is a cache miss (it is in the step's cache key, as BuildKit's Meta.Ulimit)", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nRUN ulimit -Sn > /sn\n`);
    const work = tempDir();
    const env = { KITBUILD_ROOT: `${work}/root`, KITBUILD_RUNC_ROOT: `${work}/runc` };
    const first = await runKitbuild(["build", "--progress=plain", "--ulimit", "nofile=700", "-o", `${work}/a`, ctx], { env });
    expectExit(first, 0);
    const second = await runKitbuild(["build", "--progress=plain", "--ulimit", "nofile=800", "-o", `${work}/b`, ctx], { env });
    expectExit(second, 0);
    expect(readFileSync(`${work}/a/sn`, "utf8").trim()).toBe("700");
    expect(readFileSync(`${work}/b/sn`, "utf8").trim()).toBe("800");
  }, 240_000);

  test("--ulimit usage errors exit 2 with docker's messages", async () => {
    const cases: Array<[string, string]> = [
      ["nofile", "invalid ulimit argument: nofile"],
      ["bogus=1", "invalid ulimit type: bogus"],
      ["nofile=10:5", "ulimit soft limit must be less than or equal to hard limit: 10 > 5"],
      ["nofile=1:2:3", "too many limit value arguments"],
      ["nofile=abc", 'invalid --ulimit value "abc"'],
    ];
    for (const [value, message] of cases) {
      const res = await runKitbuild(["build", "--ulimit", value, tempDir()]);
      expectExit(res, 2);
      expect(res.stderr).toContain(message);
      expect(res.stderr).not.toContain("    at ");
    }
  }, 120_000);

  test("--shm-size sizes /dev/shm; the default is 64m", async () => {
    const run = ["RUN grep ' /dev/shm ' /proc/mounts > /shm"];
    const sized = await build(run, ["--shm-size", "128m"]);
    expectExit(sized.res, 0);
    expect(sized.read("/shm")).toContain(`size=${128 * 1024}k`);
    // As BuildKit's tmpfs over /dev/shm: nosuid only, so binaries there may run.
    expect(sized.read("/shm")).not.toContain("noexec");
    const plain = await build(run);
    expectExit(plain.res, 0);
    expect(plain.read("/shm")).toContain(`size=${64 * 1024}k`);
    expect(plain.read("/shm")).toContain("noexec");
    const bad = await runKitbuild(["build", "--shm-size", "lots", tempDir()]);
    expectExit(bad, 2);
    expect(bad.stderr).toContain('invalid --shm-size "lots"');
  }, 240_000);

  test("--progress=none prints no progress; a failure still prints the failed step's output and the error", async () => {
    const ok = await build(["RUN echo hello-from-run"], ["--progress=none"]);
    expectExit(ok.res, 0);
    expect(ok.res.stderr).toBe("");
    const failed = await build(["RUN echo about-to-fail && exit 3"], ["--progress=none"]);
    expectExit(failed.res, 1);
    expect(failed.res.stderr).toContain("about-to-fail");
    expect(failed.res.stderr).toContain("exit code: 3");
    expect(failed.res.stderr).not.toContain("#1 ");
  }, 240_000);

  test('"load build definition from" names the -f file', async () => {
    const named = await build(["RUN true"], [], "ci.Dockerfile");
    expectExit(named.res, 0);
    expect(named.res.stderr).toContain("[internal] load build definition from ci.Dockerfile\n");
    const plain = await build(["RUN true"]);
    expectExit(plain.res, 0);
    expect(plain.res.stderr).toContain("[internal] load build definition from Dockerfile\n");
  }, 240_000);

  test("a step canceled by another's failure prints CANCELED before the error report, as BuildKit", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, [
      `FROM ${registry}/busybox AS slow`, "RUN sleep 60",
      `FROM ${registry}/busybox AS bad`, "RUN sleep 1 && echo boom && exit 4",
      "FROM scratch", "COPY --from=slow /etc/passwd /a", "COPY --from=bad /etc/passwd /b", "",
    ].join("\n"));
    const work = tempDir();
    const res = await runKitbuild(["build", "--progress=plain", "-o", `${work}/out`, ctx], { env: { KITBUILD_ROOT: `${work}/root`, KITBUILD_RUNC_ROOT: `${work}/runc` } });
    expectExit(res, 1);
    const canceled = res.stderr.search(/#\d+ CANCELED\n/);
    const report = res.stderr.indexOf(" > [bad 2/2] RUN sleep 1 && echo boom && exit 4:");
    const finalError = res.stderr.indexOf("ERROR: failed to solve:");
    expect(canceled).toBeGreaterThan(-1);
    expect(report).toBeGreaterThan(canceled);
    expect(finalError).toBeGreaterThan(report);
    // The canceled step is the slow one, and nothing is printed after the error and its hint.
    const number = /#(\d+) CANCELED/.exec(res.stderr)?.[1];
    expect(res.stderr).toContain(`#${number} [slow 2/2] RUN sleep 60\n`);
    expect(res.stderr.slice(finalError)).not.toContain("#");
  }, 240_000);
});
