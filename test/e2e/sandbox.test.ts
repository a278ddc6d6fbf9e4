// The RUN sandbox through the compiled binary: Docker's default seccomp profile (and none with
// --security=insecure), a network namespace of the step's own with outbound access through pasta
// and no route to the host's loopback, --network=host only with --allow network.host, --add-host
// and host-gateway, the next step's network made while a step runs, nothing of pasta or the
// namespaces left after a build (also a failing or killed one), and what happens without pasta.
// Needs root, runc and pasta (Debian's passt; scripts/setup.sh installs it).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { type ChildProcess, spawnSync } from "node:child_process";
import { expectExit, HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";
import { hostIPv4, leftovers, pastaProcesses, startLoopbackServer, startServer, type TestServer } from "../fixtures/sandbox.ts";

const HAS_PASTA = Bun.which("pasta") !== null;
const skip = skipBecause(!IS_ROOT || !HAS_RUNC || !HAS_PASTA, `e2e sandbox tests: ${NEEDS_ROOT_AND_RUNC}, and pasta (apt-get install passt)`);

let registry = "";
let loopback: TestServer;
let anyAddress: TestServer;
beforeAll(async () => {
  if (skip) return;
  registry = await testRegistry();
  loopback = startLoopbackServer("from the host's loopback");
  anyAddress = startServer("0.0.0.0", "from the host's own address");
});
afterAll(() => {
  loopback?.stop();
  anyAddress?.stop();
});

/** Builds `lines` (after FROM busybox) into a fresh cache root; returns the result, the output and the root. */
async function build(lines: string[], args: string[] = [], env: Record<string, string> = {}) {
  const ctx = tempDir("kitbuild-ctx-");
  writeFileSync(`${ctx}/Dockerfile`, [`FROM ${registry}/busybox`, ...lines, ""].join("\n"));
  const work = tempDir();
  const out = `${work}/out`;
  const root = `${work}/root`;
  const res = await runKitbuild(["build", "--progress=plain", "-o", out, ...args, ctx], { env: { KITBUILD_ROOT: root, KITBUILD_RUNC_ROOT: `${work}/runc`, ...env }, timeoutMs: 300_000 });
  return { res, root, read: (p: string) => readFileSync(`${out}${p}`, "utf8") };
}

/** A shell line that writes what fetching `url` gave (its body, or "unreachable") to `file`. */
// (busybox 1.35 wget crashes with -T: the time limit comes from timeout.)
const fetchTo = (url: string, file: string) => `(timeout 10 wget -q -O ${file} ${url} || echo unreachable > ${file})`;

describe.skipIf(skip)("seccomp", () => {
  test("a RUN is filtered by Docker's default profile; --security=insecure is not", async () => {
    const { res, read } = await build(
      [
        "RUN grep Seccomp: /proc/self/status > /sandbox-status",
        // unshare(2) is allowed only with CAP_SYS_ADMIN, which the sandbox lacks: EPERM from the filter.
        "RUN (unshare -U true 2> /sandbox-unshare && echo allowed || echo denied) >> /sandbox-unshare",
        "RUN --security=insecure grep Seccomp: /proc/self/status > /insecure-status",
        "RUN --security=insecure unshare -U true && echo allowed > /insecure-unshare",
      ],
      ["--allow", "security.insecure"],
    );
    expectExit(res, 0);
    expect(read("/sandbox-status")).toBe("Seccomp:\t2\n");
    expect(read("/sandbox-unshare")).toContain("Operation not permitted");
    expect(read("/sandbox-unshare")).toEndWith("denied\n");
    expect(read("/insecure-status")).toBe("Seccomp:\t0\n");
    expect(read("/insecure-unshare")).toBe("allowed\n");
  }, 300_000);
});

describe.skipIf(skip)("network", () => {
  test("a default RUN has its own namespace: no host loopback, no gateway to the host, outbound HTTP and DNS work", async () => {
    const { res, read, root } = await build([
      `RUN ${fetchTo(loopback.url, "/loopback")}; ${fetchTo(`http://10.0.2.2:${loopback.port}/`, "/gateway")}; ls /sys/class/net > /ifaces`,
      `RUN cp /etc/resolv.conf /resolv.conf && ${fetchTo("http://deb.debian.org/debian/", "/debian")} && (timeout 20 wget -q -S -O /dev/null http://deb.debian.org/debian/ 2>&1 | grep -m1 'HTTP/' > /debian-status)`,
    ]);
    expectExit(res, 0);
    expect(read("/loopback")).toBe("unreachable\n");
    expect(read("/gateway")).toBe("unreachable\n");
    expect(read("/ifaces").split("\n").filter(Boolean).sort()).toEqual(["eth0", "lo"]);
    expect(read("/debian")).not.toBe("unreachable\n");
    expect(read("/debian-status")).toMatch(/HTTP\/1\.[01] 200/);
    // Resolved through the step's own resolv.conf: the host's resolvers when they are reachable from
    // the namespace, pasta's forwarder when the host's are on loopback.
    const hostServers = nameservers(readFileSync("/etc/resolv.conf", "utf8"));
    const stepServers = nameservers(read("/resolv.conf"));
    if (hostServers.some((s) => s.startsWith("127.") || s === "::1")) expect(stepServers).toEqual(["10.0.2.3"]);
    else expect(stepServers).toEqual(hostServers);
    expect(leftovers(root)).toEqual([]);
  }, 300_000);

  test("--network=host needs --allow network.host, in a RUN and as the build flag; then it reaches the host's loopback", async () => {
    const lines = [`RUN --network=host ${fetchTo(loopback.url, "/host")}`];
    const refused = await build(lines);
    expectExit(refused.res, 1);
    expect(refused.res.stderr).toContain("network.host is not allowed");
    expect(refused.res.stderr).toContain("hint: grant it with --allow network.host");
    const refusedFlag = await build([`RUN ${fetchTo(loopback.url, "/host")}`], ["--network=host"]);
    expectExit(refusedFlag.res, 1);
    expect(refusedFlag.res.stderr).toContain("hint: grant it with --allow network.host");
    const allowed = await build(lines, ["--allow", "network.host"]);
    expectExit(allowed.res, 0);
    expect(allowed.read("/host")).toBe(loopback.body);
    const flag = await build([`RUN ${fetchTo(loopback.url, "/host")}`, `RUN --network=none ls /sys/class/net > /none`], ["--network", "host", "--allow", "network.host"]);
    expectExit(flag.res, 0);
    expect(flag.read("/host")).toBe(loopback.body);
    // A RUN's own --network wins over the build's.
    expect(flag.read("/none")).toBe("lo\n");
  }, 300_000);

  test("RUN --network=none has only loopback; --network=none as the build flag too", async () => {
    const { res, read } = await build([`RUN --network=none ls /sys/class/net > /none && ${fetchTo("http://deb.debian.org/debian/", "/none-fetch")}`]);
    expectExit(res, 0);
    expect(read("/none")).toBe("lo\n");
    expect(read("/none-fetch")).toBe("unreachable\n");
    const flag = await build(["RUN ls /sys/class/net > /none"], ["--network=none"]);
    expectExit(flag.res, 0);
    expect(flag.read("/none")).toBe("lo\n");
  }, 300_000);

  test("--network takes default, none and host only", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    const res = await runKitbuild(["build", "--network", "bridge", ctx], { env: { KITBUILD_ROOT: `${ctx}/root` } });
    expectExit(res, 2);
    expect(res.stderr).toContain('network mode "bridge" is not supported');
    const help = await runKitbuild(["build", "--help"]);
    expectExit(help, 0);
    for (const flag of ["--network", "--add-host", "--allow"]) expect(help.stdout + help.stderr).toContain(flag);
  });

  test("--add-host NAME:IP, NAME=IP and host-gateway are in /etc/hosts; host-gateway reaches the host", async () => {
    const hostIp = hostIPv4();
    const { res, read } = await build(
      ["RUN cp /etc/hosts /hosts", `RUN ${fetchTo(`http://gw:${anyAddress.port}/`, "/via-gateway")}`],
      ["--add-host", "one.example:192.0.2.10", "--add-host", "six.example=[2001:db8::1]", "--add-host", "gw:host-gateway"],
    );
    expectExit(res, 0);
    const entries = read("/hosts").split("\n").filter(Boolean);
    expect(entries).toContain("192.0.2.10\tone.example");
    expect(entries).toContain("2001:db8::1\tsix.example");
    expect(entries).toContain(`${hostIp}\tgw`);
    expect(entries[0]).toBe("127.0.0.1\tlocalhost buildkitsandbox");
    expect(read("/via-gateway")).toBe(anyAddress.body);
    for (const bad of ["nohost", ":1.2.3.4", "name:not-an-ip"]) {
      const ctx = tempDir("kitbuild-ctx-");
      const refused = await runKitbuild(["build", "--add-host", bad, ctx], { env: { KITBUILD_ROOT: `${ctx}/root` } });
      expectExit(refused, 2);
      expect(refused.stderr).toContain(`invalid --add-host "${bad}"`);
    }
  }, 300_000);

  test("nothing of pasta or the namespace is left after a failing RUN", async () => {
    const { res, root } = await build(["RUN timeout 20 wget -q -O /dev/null http://deb.debian.org/debian/ && exit 3"]);
    expectExit(res, 1);
    expect(res.stderr).toContain("exit code: 3");
    expect(leftovers(root)).toEqual([]);
  }, 300_000);

  const killCases = [
    { when: "during a sandboxed RUN", lines: ["RUN echo started && sleep 120"], pastas: 1, afterMs: 0 },
    // Half a second in, the next step's network is ready.
    { when: "while the next step's network is made ahead", lines: ["RUN echo started && sleep 120", "RUN true"], pastas: 2, afterMs: 500 },
  ];
  for (const signal of ["SIGINT", "SIGKILL"] as const) {
    for (const { when, lines, pastas, afterMs } of killCases) {
      test(`${signal} ${when}: pasta and the namespaces are gone (by the watchdog after SIGKILL)`, async () => {
        let sent = false;
        let sawPasta: string[] = [];
        const { res, root } = await buildWatching(lines, (text, root, child) => {
          if (sent || !/#\d+ [\d.]+ started\n/.test(text)) return;
          sent = true;
          setTimeout(() => {
            sawPasta = pastaProcesses(root);
            child.kill(signal);
          }, afterMs);
        });
        expect(sent).toBe(true);
        // The step (and the next one) really had a pasta while it ran.
        expect(sawPasta).toHaveLength(pastas);
        if (signal === "SIGINT") expectExit(res, 130);
        else expect(res.signal).toBe("SIGKILL");
        await until(() => leftovers(root).length === 0, 20_000);
        expect(leftovers(root)).toEqual([]);
      }, 300_000);
    }
  }

  test("RUN steps in a row: each has a namespace of its own, the next one's network is made while a step runs, nothing is left", async () => {
    const probe = (n: number) => `readlink /proc/self/ns/net > /ns-${n} && ip -4 -o addr show eth0 > /addr-${n} && ip route > /route-${n}`;
    const lines = [`RUN ${probe(1)}`, `RUN ${probe(2)} && echo second-started && sleep 2`, `RUN ${probe(3)} && echo third-started && sleep 2`];
    const during: Record<string, number> = {};
    const seen = new Set<string>();
    const { res, read, root } = await buildWatching(lines, (text, root) => {
      for (const step of ["second", "third"]) {
        if (seen.has(step) || !new RegExp(`#\\d+ [\\d.]+ ${step}-started\\n`).test(text)) continue;
        seen.add(step);
        // A second into the step's sleep: the step before it is torn down by then.
        setTimeout(() => (during[step] = pastaProcesses(root).length), 1000);
      }
    });
    expectExit(res, 0);
    const namespaces = [1, 2, 3].map((n) => read(`/ns-${n}`).trim());
    expect(namespaces[0]).toMatch(/^net:\[\d+\]$/);
    expect(new Set(namespaces).size).toBe(3);
    for (const n of [1, 2, 3]) {
      expect(read(`/addr-${n}`)).toContain("inet 10.0.2.100/24");
      expect(read(`/route-${n}`)).toContain("default via 10.0.2.2 dev eth0");
    }
    // The second step's own pasta and the third's, made ahead; the last step makes none ahead.
    expect(during).toEqual({ second: 2, third: 1 });
    expect(leftovers(root)).toEqual([]);
  }, 300_000);

  test("a failing RUN with the next step's network made ahead leaves nothing", async () => {
    const { res, root } = await build(["RUN true", "RUN sleep 1 && exit 3", "RUN true"]);
    expectExit(res, 1);
    expect(res.stderr).toContain("exit code: 3");
    expect(leftovers(root)).toEqual([]);
  }, 300_000);

  test("without pasta: the step fails with the install hint; with --allow network.host one warning and the host's network", async () => {
    const bin = pathWithoutPasta();
    const lines = [`RUN ${fetchTo(loopback.url, "/first")}`, `RUN ${fetchTo(loopback.url, "/second")}`];
    const refused = await build(lines, [], { PATH: bin });
    expectExit(refused.res, 1);
    expect(refused.res.stderr).toContain("pasta was not found");
    expect(refused.res.stderr).toContain("apt-get install passt");
    const fallback = await build(lines, ["--allow", "network.host"], { PATH: bin });
    expectExit(fallback.res, 0);
    expect(fallback.res.stderr.split("pasta (Debian's passt package) is not installed").length - 1).toBe(1);
    expect(fallback.read("/first")).toBe(loopback.body);
    expect(fallback.read("/second")).toBe(loopback.body);
  }, 300_000);
});

/** Builds `lines` (after FROM busybox) into a fresh cache root, telling `watch` the output so far, the root and the process. */
async function buildWatching(lines: string[], watch: (text: string, root: string, child: ChildProcess) => void) {
  const ctx = tempDir("kitbuild-ctx-");
  writeFileSync(`${ctx}/Dockerfile`, [`FROM ${registry}/busybox`, ...lines, ""].join("\n"));
  const work = tempDir();
  const root = `${work}/root`;
  const res = await runKitbuild(["build", "--progress=plain", "-o", `${work}/out`, ctx], {
    env: { KITBUILD_ROOT: root, KITBUILD_RUNC_ROOT: `${work}/runc` },
    timeoutMs: 300_000,
    onStderr: (text, child) => watch(text, root, child),
  });
  return { res, root, read: (p: string) => readFileSync(`${work}/out${p}`, "utf8") };
}

/** Waits until `done()` holds or `ms` have passed. */
async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await Bun.sleep(100);
}

function nameservers(text: string): string[] {
  return text.split("\n").flatMap((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1] ?? []);
}

/** A directory of links to every program on the usual PATH except pasta and passt. */
function pathWithoutPasta(): string {
  const bin = `${tempDir("kitbuild-path-")}/bin`;
  mkdirSync(bin);
  for (const dir of ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (/^(pasta|passt)/.test(name)) continue;
      try {
        symlinkSync(`${dir}/${name}`, `${bin}/${name}`);
      } catch {
        // an earlier directory had it
      }
    }
  }
  expect(spawnSync("sh", ["-c", "command -v pasta"], { env: { PATH: bin } }).status).not.toBe(0);
  return bin;
}
