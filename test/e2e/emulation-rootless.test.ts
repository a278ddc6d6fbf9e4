// RUN for a foreign platform in a rootless build, run by the unprivileged users of
// test/fixtures/users.ts: kitbuild registers a binfmt_misc handler in its own user namespace, so the
// step and every program it starts are emulated, with no handler on the host and also while the
// host has one (a rootless build never relies on the host's handlers). Needs root (to create the
// user and register the handler), runc, runuser, unshare and qemu-user-static.
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { qemuName } from "../../src/worker/emulation/architectures.ts";
import { registerHandler, withoutHostHandlers } from "../fixtures/binfmt.ts";
import { multiPlatformBusybox } from "../fixtures/foreign-images.ts";
import * as u from "../fixtures/users.ts";
import { expectExit, skipBecause, testRegistry } from "../harness.ts";

const qemu = `/usr/bin/qemu-${qemuName("arm64")}-static`;
const why = u.rootlessUnavailable() ?? (Bun.which(qemu) ? undefined : "needs qemu-user-static (scripts/setup.sh installs it)");
const skip = skipBecause(why !== undefined, `rootless emulation tests: ${why}`);

let ref = "";
let uname = "";
let bin = "";
let users: u.TestUser[] = [];
beforeAll(async () => {
  if (skip) return;
  const multi = await multiPlatformBusybox(await testRegistry());
  if (multi.kind !== "ready") throw new Error(`the multi-platform busybox image is unavailable: ${multi.reason}`);
  ref = multi.ref;
  uname = multi.platforms.find((p) => p.platform.startsWith("linux/arm64"))?.uname ?? "";
  const { rootless, single } = u.ensureUsers();
  users = [rootless, single];
  bin = u.sharedBinary();
}, 300_000);

/** Builds FROM --platform=linux/arm64 as `user`; returns what the step wrote. */
async function buildAsUser(user: u.TestUser): Promise<{ m: string; child: string; emulator: string }> {
  const work = u.userDir(user);
  mkdirSync(`${work}/ctx`);
  writeFileSync(`${work}/ctx/Dockerfile`, [
    `FROM --platform=linux/arm64 ${ref}`,
    // --network=none: this test is about emulation, not the sandbox's network (pasta).
    // /bin/busybox by its path is a program the shell executes: emulated only through a binfmt_misc handler.
    "RUN --network=none uname -m > /m && /bin/busybox cat /m > /child && if [ -e /dev/.buildkit_qemu_emulator ]; then echo mounted; else echo absent; fi > /emulator",
    "",
  ].join("\n"));
  u.chownTree(work, user);
  const res = await u.runAs(user, bin, work, ["build", "--progress=plain", "-o", `type=local,dest=${work}/out`, `${work}/ctx`], {
    env: { USER: user.name, LOGNAME: user.name, KITBUILD_ROOT: `${work}/root` }, timeoutMs: 300_000,
  });
  expectExit(res, 0);
  return { m: readFileSync(`${work}/out/m`, "utf8"), child: readFileSync(`${work}/out/child`, "utf8"), emulator: readFileSync(`${work}/out/emulator`, "utf8") };
}

describe.skipIf(skip)("RUN for a foreign platform, rootless (compiled binary, another user)", () => {
  test("the step and the programs it starts run through kitbuild's own binfmt_misc handler (in its user namespace), with or without the host's, with subordinate ids or a single id", async () => {
    for (const user of users) {
      using _ = withoutHostHandlers("arm64");
      expect(await buildAsUser(user), user.name).toEqual({ m: `${uname}\n`, child: `${uname}\n`, emulator: "absent\n" });
    }
    using _handler = registerHandler("arm64", qemu);
    expect(await buildAsUser(users[0] as u.TestUser)).toEqual({ m: `${uname}\n`, child: `${uname}\n`, emulator: "absent\n" });
  }, 600_000);
});
