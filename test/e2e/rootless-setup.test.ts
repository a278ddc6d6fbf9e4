// Rootless builds where the machine gets in the way: an unshare that cannot create a user namespace
// (a clear error naming the sysctls) and a /proc with masked parts, as in a nested
// container, where a step runs without a process sandbox and says so. Through the compiled binary as
// an unprivileged user; needs root to set the scene (CI runs as root).
import { beforeAll, describe, expect, test } from "bun:test";
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import { skipBecause, testRegistry, expectExit } from "../harness.ts";
import { ensureUsers, rootlessUnavailable, runAs, sharedBinary, type TestUser, userDir } from "../fixtures/users.ts";

const why = rootlessUnavailable();
const skip = skipBecause(why !== undefined, `rootless setup tests: ${why}`);

let registry = "";
let binary = "";
let user: TestUser;

beforeAll(async () => {
  if (skip) return;
  registry = await testRegistry();
  binary = sharedBinary();
  user = ensureUsers().rootless;
});

/** A context owned by the user with a Dockerfile of `lines`, and the user's cache root beside it. */
function userContext(lines: string[]): { home: string; ctx: string; root: string } {
  const home = userDir(user);
  const ctx = `${home}/ctx`;
  mkdirSync(ctx);
  writeFileSync(`${ctx}/Dockerfile`, `${lines.join("\n")}\n`);
  chownSync(ctx, user.uid, user.gid);
  chownSync(`${ctx}/Dockerfile`, user.uid, user.gid);
  return { home, ctx, root: `${home}/root` };
}

describe.skipIf(skip)("rootless setup problems", () => {
  test("when unshare cannot create a user namespace, the error names the sysctls to check", async () => {
    // Switching user namespaces off (user.max_user_namespaces=0) needs CAP_SYS_RESOURCE, which this
    // VM's root lacks; an unshare that fails as the real one then does stands in for it.
    const { home, ctx, root } = userContext([`FROM ${registry}/busybox`, "RUN true"]);
    const fake = userDir(user);
    writeFileSync(`${fake}/unshare`, "#!/bin/sh\necho 'unshare: unshare failed: Operation not permitted' >&2\nexit 1\n", { mode: 0o755 });
    const res = await runAs(user, binary, home, ["build", "--progress=plain", ctx], {
      env: { KITBUILD_ROOT: root, PATH: `${fake}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` },
    });
    expectExit(res, 1);
    expect(res.stderr).toContain("unshare failed: Operation not permitted");
    expect(res.stderr).toContain("cannot create a user namespace for a rootless build");
    expect(res.stderr).toContain("user.max_user_namespaces");
    expect(res.stderr).not.toContain("    at ");
  }, 60_000);

  test("where /proc has masked parts, steps run without a process sandbox and it is said once", async () => {
    const { home, ctx, root } = userContext([`FROM ${registry}/busybox`, "RUN echo one > /one", "RUN echo two > /two && test -d /proc/1"]);
    const vars = { HOME: home, PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NO_COLOR: "1", KITBUILD_ROOT: root };
    // A mount namespace of the test's own, with a tmpfs over /proc/sys as a container's masked paths do.
    const script = 'mount -t tmpfs tmpfs /proc/sys && exec "$@"';
    const proc = Bun.spawn(
      ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", "runuser", "-u", user.name, "--", "env", "-i",
        ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), binary, "build", "--progress=plain", ctx],
      { cwd: home, stdout: "pipe", stderr: "pipe" },
    );
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    expect(stderr).toContain("without a process sandbox");
    expect(stderr.split("without a process sandbox").length - 1).toBe(1);
    expect(code).toBe(0);
  }, 120_000);
});
