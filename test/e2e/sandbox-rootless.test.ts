// The RUN sandbox of rootless builds, run by the unprivileged users of test/fixtures/users.ts (one
// with subordinate ids, one with a single id): the same seccomp profile and the same network as
// root's builds (a namespace of the step's own, outbound through pasta inside kitbuild's user
// namespace, no route to the host's loopback), and no pasta left afterwards. Needs root (to create
// the users), runc, runuser, unshare and pasta; /dev/net/tun must be usable by every user (mode 0666,
// as udev sets it and scripts/setup.sh checks).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { expectExit, skipBecause, testRegistry } from "../harness.ts";
import { pastaProcesses, startLoopbackServer, type TestServer } from "../fixtures/sandbox.ts";
import * as u from "../fixtures/users.ts";

const tunUsable = (() => {
  try {
    return (statSync("/dev/net/tun").mode & 0o006) === 0o006;
  } catch {
    return false;
  }
})();
const why = u.rootlessUnavailable() ?? (Bun.which("pasta") ? undefined : "needs pasta (apt-get install passt)") ?? (tunUsable ? undefined : "needs /dev/net/tun usable by every user (chmod 0666, as udev sets it; scripts/setup.sh does)");
const skip = skipBecause(why !== undefined, `rootless sandbox tests: ${why}`);

let registry = "";
let bin = "";
let server: TestServer;
let users: u.TestUser[] = [];
beforeAll(async () => {
  if (skip) return;
  registry = await testRegistry();
  const { rootless, single } = u.ensureUsers();
  users = [rootless, single];
  bin = u.sharedBinary();
  server = startLoopbackServer("from the host's loopback");
}, 60_000);
afterAll(() => server?.stop());

describe.skipIf(skip)("the sandbox in rootless builds", () => {
  for (const which of ["with subordinate ids", "with a single id"] as const) {
    test(`seccomp and a network namespace through pasta, ${which}`, async () => {
      const user = users[which === "with subordinate ids" ? 0 : 1] as u.TestUser;
      const work = u.userDir(user);
      mkdirSync(`${work}/ctx`);
      writeFileSync(`${work}/ctx/Dockerfile`, [
        `FROM ${registry}/busybox`,
        "RUN grep Seccomp: /proc/self/status > /seccomp; (unshare -U true 2>&1 || echo denied) > /unshare",
        `RUN (timeout 10 wget -q -O /loopback ${server.url} || echo unreachable > /loopback); ls /sys/class/net > /ifaces`,
        // busybox's nslookup reads the step's resolv.conf; its wget then fetches by address.
        "RUN ip=$(nslookup deb.debian.org | awk '/^Address: / { a = $2 } END { print a }') && echo \"$ip\" > /resolved && timeout 20 wget -q -S -O /dev/null --header 'Host: deb.debian.org' \"http://$ip/debian/\" 2>&1 | grep -m1 'HTTP/' > /debian-status",
        "",
      ].join("\n"));
      u.chownTree(work, user);
      const root = `${work}/root`;
      const res = await u.runAs(user, bin, work, ["build", "--progress=plain", "-o", `type=local,dest=${work}/out`, `${work}/ctx`], {
        env: { USER: user.name, LOGNAME: user.name, KITBUILD_ROOT: root }, timeoutMs: 300_000,
      });
      expectExit(res, 0);
      const read = (p: string) => readFileSync(`${work}/out${p}`, "utf8");
      expect(read("/seccomp")).toBe("Seccomp:\t2\n");
      expect(read("/unshare")).toContain("Operation not permitted");
      expect(read("/loopback")).toBe("unreachable\n");
      expect(read("/ifaces").split("\n").filter(Boolean).sort()).toEqual(["eth0", "lo"]);
      expect(read("/resolved").trim()).toMatch(/^[\d.]+$|:/);
      expect(read("/debian-status")).toMatch(/HTTP\/1\.[01] 200/);
      expect(pastaProcesses(root)).toEqual([]);
    }, 300_000);
  }
});
