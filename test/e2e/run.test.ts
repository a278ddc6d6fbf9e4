// RUN steps through the compiled binary: USER by name and id (expected values taken from BuildKit:
// docker 20.10's `docker build` on the same Dockerfile), the sandboxed network by default versus
// --network=host and --network=none, --security=insecure only with --allow, the RUN flags' usage errors, and the
// per-step log limit keeping the tail. Needs root and runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry, expectExit } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `e2e RUN tests: ${NEEDS_ROOT_AND_RUNC}`);

let registry = "";
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
});

/** Builds `lines` (after FROM busybox) into a fresh cache root; returns the result and the output dir. */
async function build(lines: string[], args: string[] = [], env: Record<string, string> = {}) {
  const ctx = tempDir("kitbuild-ctx-");
  writeFileSync(`${ctx}/Dockerfile`, [`FROM ${registry}/busybox`, ...lines, ""].join("\n"));
  const work = tempDir();
  const out = `${work}/out`;
  const res = await runKitbuild(["build", "--progress=plain", "-o", out, ...args, ctx], { env: { KITBUILD_ROOT: `${work}/root`, KITBUILD_RUNC_ROOT: `${work}/runc`, ...env } });
  return { res, out, read: (p: string) => readFileSync(`${out}${p}`, "utf8") };
}

describe.skipIf(skip)("RUN through the compiled binary", () => {
  test("USER by name, uid, name:group, uid:gid and unknown ids, with supplementary groups and HOME", async () => {
    const { res, read } = await build([
      'RUN echo "extra:x:2000:user" >> /etc/group && echo "team:x:3000:" >> /etc/group',
      "USER user",
      'RUN id > /tmp/by-name && echo "$HOME" >> /tmp/by-name',
      "USER 1000:3000",
      'RUN id > /tmp/uid-gid && echo "$HOME" >> /tmp/uid-gid',
      "USER nobody:team",
      "RUN id > /tmp/name-group",
      "USER 4242",
      'RUN id > /tmp/unknown-uid && echo "$HOME" >> /tmp/unknown-uid',
      "USER 4242:4343",
      "RUN id > /tmp/unknown-pair",
      "USER user:2000",
      "RUN id > /tmp/name-gid",
    ]);
    expectExit(res, 0);
    // Each expected value is what BuildKit produced for this Dockerfile.
    expect(read("/tmp/by-name")).toBe("uid=1000(user) gid=1000(user) groups=2000(extra)\n/home/user\n");
    expect(read("/tmp/uid-gid")).toBe("uid=1000(user) gid=3000(team)\n/home/user\n");
    expect(read("/tmp/name-group")).toBe("uid=65534(nobody) gid=3000(team)\n");
    expect(read("/tmp/unknown-uid")).toBe("uid=4242 gid=0(root)\n/\n");
    expect(read("/tmp/unknown-pair")).toBe("uid=4242 gid=4343\n");
    expect(read("/tmp/name-gid")).toBe("uid=1000(user) gid=2000(extra)\n");
  });

  test("an unknown user name fails the step with a clear error", async () => {
    const { res } = await build(["USER nosuchuser", "RUN true"]);
    expectExit(res, 1);
    expect(res.stderr).toContain('unable to find user "nosuchuser": no matching entries in passwd file');
    expect(res.stderr).toContain(">>> RUN true");
  });

  test("without USER a step runs as uid 0 even when the image has no /etc/passwd (FROM scratch), as BuildKit does", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/busybox`, readFileSync("/bin/busybox"), { mode: 0o755 });
    writeFileSync(`${ctx}/Dockerfile`, 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "/bin/busybox id -u > /uid; echo $HOME > /home"]\n');
    const work = tempDir();
    const res = await runKitbuild(["build", "--progress=plain", "-o", `${work}/out`, ctx], { env: { KITBUILD_ROOT: `${work}/root`, KITBUILD_RUNC_ROOT: `${work}/runc` } });
    expectExit(res, 0);
    expect(readFileSync(`${work}/out/uid`, "utf8")).toBe("0\n");
    expect(readFileSync(`${work}/out/home`, "utf8")).toBe("/\n");
  });

  test("a sandboxed network by default (the registry on the host's loopback unreachable), the host's with --allow network.host; --network=none has only loopback, and it is up", async () => {
    const url = `http://${registry}/v2/`;
    const { res, read } = await build([
      `RUN wget -q -O /sandbox-net ${url} 2>/dev/null || echo unreachable > /sandbox-net`,
      `RUN --network=host wget -q -O /host-net ${url}`,
      `RUN --network=none ls /sys/class/net > /none-ifaces; ip addr show lo | grep -o 'inet 127.0.0.1' > /none-lo; wget -q -O- ${url} 2>/dev/null || echo unreachable > /none-net`,
    ], ["--allow", "network.host"]);
    expectExit(res, 0);
    expect(read("/sandbox-net")).toBe("unreachable\n");
    expect(read("/host-net")).toBe("{}");
    expect(read("/none-ifaces")).toBe("lo\n");
    expect(read("/none-lo")).toBe("inet 127.0.0.1\n");
    expect(read("/none-net")).toBe("unreachable\n");
  });

  test("--security=insecure needs --allow security.insecure, then has every capability kitbuild has", async () => {
    const lines = ["RUN grep CapEff /proc/self/status > /sandbox", "RUN --security=insecure grep CapEff /proc/self/status > /insecure"];
    const refused = await build(lines);
    expectExit(refused.res, 1);
    expect(refused.res.stderr).toContain("ERROR: failed to solve: security.insecure is not allowed");
    expect(refused.res.stderr).toContain("hint: grant it with --allow security.insecure");
    expect(refused.res.stderr).toContain(">>> RUN --security=insecure");
    // Nothing ran: the check comes before the first step.
    expect(refused.res.stderr).not.toContain("RUN grep CapEff /proc/self/status > /sandbox\n#");
    const { res, read } = await build(lines, ["--allow", "security.insecure"]);
    expectExit(res, 0);
    // Docker's default capability set, as BuildKit's sandbox shows it.
    expect(read("/sandbox")).toBe("CapEff:\t00000000a80425fb\n");
    const own = readFileSync("/proc/self/status", "utf8").split("\n").find((l) => l.startsWith("CapEff:"));
    expect(read("/insecure")).toBe(`${own}\n`);
  });

  test("bad --secret, --ssh and --allow values are usage errors", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    const cases: Array<[string[], string]> = [
      [["--secret", "src=/x"], '--secret "src=/x" has no id'],
      [["--secret", "id=a,color=red"], 'unknown --secret field "color"'],
      [["--secret", "id=a,src=/nonexistent/file"], 'secret "a": cannot read "/nonexistent/file": no such file'],
      [["--ssh", "default=/nonexistent/sock"], '--ssh "default": cannot use "/nonexistent/sock"'],
      [["--allow", "root.everything"], 'unknown entitlement "root.everything" in --allow'],
    ];
    for (const [args, message] of cases) {
      const res = await runKitbuild(["build", ...args, ctx], { env: { KITBUILD_ROOT: `${ctx}/root` } });
      expect(res.stderr).toContain(message);
      expectExit(res, 2);
    }
  });

  test("runc missing or too old: the step fails saying how to get it", async () => {
    const missing = await build(["RUN true"], [], { PATH: "/nonexistent" });
    expectExit(missing.res, 1);
    expect(missing.res.stderr).toContain("runc was not found");
    expect(missing.res.stderr).toContain("apt-get install runc");
    const fake = `${tempDir()}/runc`;
    writeFileSync(fake, "#!/bin/sh\necho 'runc version 0.9.0'\n", { mode: 0o755 });
    const old = await build(["RUN true"], [], { KITBUILD_RUNC: fake });
    expectExit(old.res, 1);
    expect(old.res.stderr).toContain(`runc 0.9.0 at "${fake}" is too old: kitbuild needs 1.0.0 or newer`);
    const broken = `${tempDir()}/runc`;
    writeFileSync(broken, "#!/bin/sh\nexit 3\n", { mode: 0o755 });
    // Two stages' steps start together and share the one check.
    const failing = await build(["RUN echo a > /a", `FROM ${registry}/busybox`, "RUN echo b > /b", "COPY --from=0 /a /a"], [], { KITBUILD_RUNC: broken });
    expectExit(failing.res, 1);
    expect(failing.res.stderr).toContain(`"${broken}" does not run as runc (runc --version failed)`);
    expect(failing.res.stderr).toContain("apt-get install --reinstall runc");
    const absent = await build(["RUN true"], [], { KITBUILD_RUNC: "/nonexistent/runc" });
    expectExit(absent.res, 1);
    expect(absent.res.stderr).toContain('"/nonexistent/runc" does not run as runc (runc --version failed)');
    expect(absent.res.stderr).not.toContain("internal error");
  });

  test("output past the log limit is clipped with BuildKit's message, and the tail is kept", async () => {
    const { res } = await build(["RUN seq 1 100000"], [], { KITBUILD_STEP_LOG_MAX_SIZE: "4096", KITBUILD_STEP_LOG_MAX_SPEED: "-1" });
    expectExit(res, 0);
    const lines = res.stderr.split("\n").filter((l) => /^#\d+ [\d.]+ /.test(l)).map((l) => l.replace(/^#\d+ [\d.]+ /, ""));
    expect(lines).toContain("1");
    expect(lines).toContain("[output clipped, log limit 4KiB reached]");
    // The middle is dropped; the last 256 KiB come at the end.
    expect(lines).not.toContain("50000");
    expect(lines.at(-1)).toBe("100000");
    expect(lines.indexOf("[output clipped, log limit 4KiB reached]")).toBeLessThan(lines.indexOf("100000"));
  });
});
