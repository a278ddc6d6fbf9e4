// Rootless builds through the compiled binary, run by unprivileged users (test/fixtures/users.ts):
// the same layers as root's build on both snapshotters, the cache, cache roots kept apart by their
// id mapping, a user without subordinate ids, RUN networking, SIGKILL cleanup and prune. Needs root
// (to create the users), runc, runuser and unshare.
import { beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { type RunResult, runKitbuild, skipBecause, tempDir, testRegistry, expectExit } from "../harness.ts";
import * as u from "../fixtures/users.ts";
import { gunzipSync } from "node:zlib";
import { readTar } from "../../src/archive/tar-reader.ts";
import { lsetxattr } from "../../src/fs/libc.ts";

const why = u.rootlessUnavailable();
const skip = skipBecause(why !== undefined, `rootless e2e tests: ${why}`);

let registry = "";
let bin = "";
let rootless: u.TestUser;
let single: u.TestUser;
beforeAll(async () => {
  if (skip) return;
  registry = await testRegistry();
  ({ rootless, single } = u.ensureUsers());
  bin = u.sharedBinary();
}, 60_000);

const EPOCH = ["--build-arg", "SOURCE_DATE_EPOCH=1700000000"];
const ociOut = (dest: string) => ["-o", `type=oci,dest=${dest},rewrite-timestamp=true`];

/** The issue's Dockerfile: chown to 1000, COPY --chown, a deleted base file, replaced directories, a setuid copy, a file capability, USER 1000. */
const ISSUE_DOCKERFILE = () =>
  [
    `FROM ${registry}/busybox`,
    "COPY --chown=1000:1000 app /app",
    "RUN mkdir -p /data/sub && echo data > /data/sub/file && chown -R 1000:1000 /data",
    "RUN rm /bin/vi && rm -rf /usr/sbin && mkdir /usr/sbin && echo new > /usr/sbin/tool && rm -rf /var && echo file > /var",
    "RUN cp /bin/busybox /bin/su-copy && chmod 4755 /bin/su-copy",
    "ADD caps.tar /caps/",
    "USER 1000",
    "RUN id -u > /data/uid && touch /home/user/mine",
    "",
  ].join("\n");

/** A user's work dir (its HOME) with a context `ctx` holding `dockerfile` and app/hello.txt, all the user's. */
function workFor(user: u.TestUser, dockerfile: string): { work: string; ctx: string; root: string } {
  const work = u.userDir(user);
  mkdirSync(`${work}/ctx/app`, { recursive: true });
  writeFileSync(`${work}/ctx/Dockerfile`, dockerfile);
  writeFileSync(`${work}/ctx/app/hello.txt`, "hello\n");
  capsTar(`${work}/ctx`);
  u.chownTree(work, user);
  return { work, ctx: `${work}/ctx`, root: `${work}/root` };
}

/**
 * `caps.tar` in `dir`: one file with a file capability (cap_net_raw+ep, as `setcap` writes it: a
 * revision 2 security.capability xattr), archived by GNU tar with its xattrs.
 */
function capsTar(dir: string): void {
  const tmp = tempDir();
  writeFileSync(`${tmp}/pinger`, "#!/bin/sh\n", { mode: 0o755 });
  const cap = Buffer.alloc(20);
  cap.writeUInt32LE(0x02000001, 0); // VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE
  cap.writeUInt32LE(1 << 13, 4); // permitted: CAP_NET_RAW
  lsetxattr(`${tmp}/pinger`, "security.capability", cap);
  const res = Bun.spawnSync(["tar", "--xattrs", "--xattrs-include=security.capability", "--numeric-owner", "-cf", `${dir}/caps.tar`, "-C", tmp, "pinger"]);
  if (res.exitCode !== 0) throw new Error(`tar failed: ${res.stderr.toString()}`);
}

/** The xattrs of `name` in any of an OCI layout's gzipped layers. */
async function layerXattrs(layout: string, layers: string[], name: string): Promise<Map<string, Buffer> | undefined> {
  for (const digest of layers) {
    const raw = gunzipSync(readFileSync(`${layout}/blobs/${digest.replace(":", "/")}`));
    for await (const { header, body } of readTar((async function* () { yield raw; })())) {
      for await (const _ of body); // drain
      if (header.name === name) return header.xattrs;
    }
  }
  return undefined;
}

/** `kitbuild build --progress=plain ARGS` as `user`, with HOME=work (and USER and LOGNAME, as a login sets them). */
function buildAs(user: u.TestUser, work: string, args: string[], env: Record<string, string> = {}, opts: u.UserRunOptions = {}): Promise<RunResult> {
  return u.runAs(user, bin, work, ["build", "--progress=plain", ...args], { ...opts, env: { USER: user.name, LOGNAME: user.name, ...env } });
}

/** How each "[n/N]" step ended in a plain-progress log (DONE, CACHED, ERROR, CANCELED). */
function stepOutcomes(stderr: string): Record<string, string> {
  const names = new Map<string, string>();
  const out: Record<string, string> = {};
  for (const line of stderr.split("\n")) {
    const head = /^#(\d+) \[(\d+\/\d+)\]/.exec(line);
    if (head) names.set(head[1] as string, head[2] as string);
    const end = /^#(\d+) (DONE|CACHED|ERROR|CANCELED)\b/.exec(line);
    const step = end ? names.get(end[1] as string) : undefined;
    if (end && step) out[step] = end[2] as string;
  }
  return out;
}

/** The interface names in a copy of /proc/net/dev. */
const interfaces = (text: string) => [...text.matchAll(/^\s*([^\s:|]+):/gm)].map((m) => m[1]).sort();

describe.skipIf(skip)("rootless builds (compiled binary, run as another user)", () => {
  for (const snapshotter of ["overlay", "native"]) {
    test(`${snapshotter}: the user's layers are root's, with container ids as owners`, async () => {
      const env: Record<string, string> = snapshotter === "native" ? { KITBUILD_SNAPSHOTTER: "native" } : {};
      const { work, ctx, root } = workFor(rootless, ISSUE_DOCKERFILE());
      const mine = await buildAs(rootless, work, [...EPOCH, ...ociOut(`${work}/user.tar`), ctx], { KITBUILD_ROOT: root, ...env });
      expect(mine.stderr).not.toContain("no subordinate id range");
      expectExit(mine, 0);
      expect(readFileSync(`${root}/snapshotter`, "utf8").trim()).toBe(snapshotter);
      const rootWork = tempDir();
      const theirs = await runKitbuild(["build", "--progress=plain", ...EPOCH, ...ociOut(`${rootWork}/root.tar`), ctx], { env: { KITBUILD_ROOT: `${rootWork}/root`, ...env } });
      expectExit(theirs, 0);

      const user = u.ociLayers(`${work}/user.tar`, `${rootWork}/user-layout`);
      const host = u.ociLayers(`${rootWork}/root.tar`, `${rootWork}/root-layout`);
      expect(user.layers).toHaveLength(7);
      expect(user.layers).toEqual(host.layers);
      expect(user.manifest).toBe(host.manifest);
      const listing = user.layers.flatMap((l) => u.layerListing(`${rootWork}/user-layout`, l));
      expect(listing.find((l) => l.endsWith(" data/sub/file"))).toContain(" 1000/1000 ");
      expect(listing.find((l) => l.endsWith(" app/hello.txt"))).toContain(" 1000/1000 ");
      expect(listing.find((l) => l.endsWith(" bin/su-copy"))).toMatch(/^-rwsr-xr-x 0\/0 /);
      expect(listing.find((l) => l.endsWith(" data/uid"))).toContain(" 1000/1000 ");
      // The file capability is the one written (revision 2, CAP_NET_RAW), not the v3 form a user
      // namespace stores on disk.
      const caps = (await layerXattrs(`${rootWork}/user-layout`, user.layers, "caps/pinger"))?.get("security.capability");
      expect(caps?.toString("hex")).toBe("0100000200200000000000000000000000000000");
      // No subordinate (host) id leaks into a layer.
      expect(listing.filter((l) => l.split(/\s+/)[1]?.split("/").some((id) => Number(id) >= 65536))).toEqual([]);
    }, 120_000);
  }

  test("a second build is all CACHED, and type=local gives files owned by the user's host uid", async () => {
    const { work, ctx, root } = workFor(rootless, ISSUE_DOCKERFILE());
    const env = { KITBUILD_ROOT: root };
    expectExit(await buildAs(rootless, work, ["-o", `type=local,dest=${work}/out1`, ctx], env), 0);
    const second = await buildAs(rootless, work, ["-o", `type=local,dest=${work}/out2`, ctx], env);
    expectExit(second, 0);
    expect(stepOutcomes(second.stderr)).toEqual(Object.fromEntries([1, 2, 3, 4, 5, 6, 7].map((n) => [`${n}/7`, "CACHED"])));
    expect(second.stderr).not.toMatch(/^#\d+ \d+\.\d+ /m); // no step printed output: nothing ran
    expect(readFileSync(`${work}/out2/data/uid`, "utf8")).toBe("1000\n");
    expect(lstatSync(`${work}/out2/bin/su-copy`).mode & 0o7777).toBe(0o4755);
    expect(u.foreignOwners(`${work}/out2`, (id) => id === rootless.uid)).toEqual([]);
  }, 120_000);

  test("a cache root is refused across id mappings; the user's own cache root is apart from root's", async () => {
    const { work, ctx } = workFor(rootless, `FROM ${registry}/busybox\nRUN echo hi > /f\n`);
    const rootsRoot = `${work}/roots-root`;
    expectExit(await runKitbuild(["build", "--progress=plain", ctx], { env: { KITBUILD_ROOT: rootsRoot } }), 0);
    u.chownTree(rootsRoot, rootless); // only the mapping differs now
    const refused = await buildAs(rootless, work, [ctx], { KITBUILD_ROOT: rootsRoot });
    expectExit(refused, 1);
    expect(refused.stderr).toContain("cannot be used by");
    expect(readFileSync(`${rootsRoot}/id-mapping`, "utf8").trim()).toBe("host");

    // Without KITBUILD_ROOT the user's cache is under its HOME, recorded with its mapping.
    expectExit(await buildAs(rootless, work, [ctx]), 0);
    const own = `${work}/.local/share/kitbuild`;
    const map = `0:${rootless.uid}:1,1:${rootless.subStart}:65536`;
    expect(readFileSync(`${own}/id-mapping`, "utf8").trim()).toBe(`uids ${map} gids ${map.replace(`0:${rootless.uid}`, `0:${rootless.gid}`)}`);
    const rootOnTheirs = await runKitbuild(["build", "--progress=plain", ctx], { env: { KITBUILD_ROOT: own } });
    expectExit(rootOnTheirs, 1);
    expect(rootOnTheirs.stderr).toContain("cannot be used by");
  }, 120_000);

  test("without USER in the environment the user's range is still found (not a single-id mapping)", async () => {
    const { work, ctx, root } = workFor(rootless, `FROM ${registry}/busybox\nRUN echo x > /f && chown 1000:1000 /f\n`);
    const res = await u.runAs(rootless, bin, work, ["build", "--progress=plain", ctx], { env: { KITBUILD_ROOT: root } });
    expect(res.stderr).not.toContain("no subordinate id range");
    expectExit(res, 0);
  }, 120_000);

  test("a user without subordinate ids: one warning; builds needing no other id work, others fail with the fix", async () => {
    const build = async (dockerfile: string) => {
      const { work, ctx, root } = workFor(single, `FROM ${registry}/busybox\n${dockerfile}\n`);
      const res = await buildAs(single, work, ["-o", `type=local,dest=${work}/out`, ctx], { KITBUILD_ROOT: root });
      expect(res.stderr.split("no subordinate id range")).toHaveLength(2);
      expect(res.stderr).toContain("usermod --add-subuids");
      // The failure's own message, apart from the warning.
      const rest = res.stderr.split("\n").filter((l) => !l.includes("no subordinate id range")).join("\n");
      return { res, rest, out: `${work}/out` };
    };
    const ok = await build("RUN echo ok > /f");
    expectExit(ok.res, 0);
    expect(readFileSync(`${ok.out}/f`, "utf8")).toBe("ok\n");
    for (const needsIds of ["RUN echo x > /f && chown 1000 /f", "COPY --chown=1000 app/hello.txt /hello.txt"]) {
      const failed = await build(needsIds);
      expectExit(failed.res, 1);
      expect(failed.rest).toContain("usermod --add-subuids");
    }
  }, 120_000);

  test("RUN --network=none sees only lo; RUN --network=host (allowed) uses the host's network and reaches the registry", async () => {
    const dockerfile = [
      `FROM ${registry}/busybox`,
      "RUN --network=none cat /proc/net/dev > /net-none",
      `RUN --network=host cat /proc/net/dev > /net-host && wget -q -O /registry http://${registry}/v2/`,
    ].join("\n");
    const { work, ctx, root } = workFor(rootless, dockerfile);
    const res = await buildAs(rootless, work, ["--allow", "network.host", "-o", `type=local,dest=${work}/out`, ctx], { KITBUILD_ROOT: root });
    expectExit(res, 0);
    expect(interfaces(readFileSync(`${work}/out/net-none`, "utf8"))).toEqual(["lo"]);
    expect(interfaces(readFileSync(`${work}/out/net-host`, "utf8"))).toEqual(interfaces(readFileSync("/proc/net/dev", "utf8")));
    expect(readFileSync(`${work}/out/registry`, "utf8").trim()).toBe("{}");
  }, 120_000);

  describe("SIGKILL during a long RUN leaves nothing behind by the next build at the latest", () => {
    const STEP_STARTED = /#\d+ [\d.]+ started\n/;
    const runcRoot = () => `/tmp/kitbuild-${rootless.uid}/runc`;
    const containers = () => {
      const list = Bun.spawnSync(["runc", "--root", runcRoot(), "list", "--quiet"]);
      const dirs = existsSync(runcRoot()) ? readdirSync(runcRoot()) : [];
      return [...list.stdout.toString().split("\n").filter(Boolean), ...dirs.map((d) => `state dir ${d}`)];
    };
    /** Containers, the user's processes (the container's included) and mounts under `root`, on the host or in their namespaces. */
    const leftovers = (root: string) => {
      const pids = u.processesOf(rootless.uid);
      return [...containers(), ...pids.map((p) => `process ${p}`), ...u.mountsUnder(root, pids)];
    };
    const waitUntilClean = async (root: string) => {
      for (let i = 0; i < 100 && leftovers(root).length > 0; i++) await Bun.sleep(100);
      return leftovers(root);
    };
    const activeSnapshots = (root: string) => {
      const db = new Database(`${root}/index.db`, { readonly: true });
      try {
        return (db.query("SELECT count(*) AS n FROM snapshots WHERE state = 'active'").get() as { n: number }).n;
      } finally {
        db.close();
      }
    };

    /** Builds the sleeping step as the user and kills the outer kitbuild (under runuser) or the one in the namespace. */
    async function killDuringRun(which: "outer" | "inner") {
      const { work, ctx, root } = workFor(rootless, `FROM ${registry}/busybox\nRUN echo started; sleep 30; echo finished\n`);
      let killed = 0;
      let command = "";
      const started = Date.now();
      const res = await buildAs(rootless, work, [ctx], { KITBUILD_ROOT: root }, {
        onStderr: (text, runuser) => {
          if (killed !== 0 || !STEP_STARTED.test(text)) return;
          const outer = u.childrenOf(runuser)[0] ?? -1;
          const inner = u.childrenOf(outer)[0] ?? -1;
          killed = which === "outer" ? outer : inner;
          command = readFileSync(`/proc/${killed}/cmdline`, "utf8").split("\0")[0] ?? "";
          process.kill(killed, "SIGKILL");
        },
      });
      expect(killed).toBeGreaterThan(0);
      expect(command).toBe(bin);
      expect(res.code).not.toBe(0);
      expect(Date.now() - started).toBeLessThan(25_000); // it did not wait for the sleep
      return { work, ctx, root };
    }

    async function nextBuildCleansUp(s: { work: string; root: string }) {
      const other = `${s.work}/other`;
      mkdirSync(other);
      writeFileSync(`${other}/Dockerfile`, `FROM ${registry}/busybox\n`);
      u.chownTree(other, rootless);
      const next = await buildAs(rootless, s.work, [other], { KITBUILD_ROOT: s.root });
      expect(next.stderr).not.toContain("ERROR");
      expectExit(next, 0);
      expect(await waitUntilClean(s.root)).toEqual([]);
      expect(readdirSync(`${s.root}/executor`)).toEqual([]);
      expect(activeSnapshots(s.root)).toBe(0);
    }

    test("the outer kitbuild killed: the build in the namespace sees it and cleans up", async () => {
      const s = await killDuringRun("outer");
      expect(await waitUntilClean(s.root)).toEqual([]);
      expect(readdirSync(`${s.root}/executor`)).toEqual([]);
      await nextBuildCleansUp(s);
    }, 120_000);

    test("the kitbuild in the namespace killed: its watchdog removes the container and mounts, the next build the rest", async () => {
      const s = await killDuringRun("inner");
      expect(await waitUntilClean(s.root)).toEqual([]);
      await nextBuildCleansUp(s);
    }, 120_000);
  });

  test("prune -af leaves no snapshot file of a subordinate id", async () => {
    const { work, ctx, root } = workFor(rootless, ISSUE_DOCKERFILE());
    expectExit(await buildAs(rootless, work, [ctx], { KITBUILD_ROOT: root }), 0);
    const usersOwn = (id: number) => id === rootless.uid;
    expect(u.foreignOwners(`${root}/snapshots`, usersOwn).length).toBeGreaterThan(0);
    const prune = await u.runAs(rootless, bin, work, ["prune", "-af"], { env: { KITBUILD_ROOT: root, USER: rootless.name } });
    expect(prune.stderr).toBe("");
    expectExit(prune, 0);
    expect(u.foreignOwners(`${root}/snapshots`, usersOwn)).toEqual([]);
  }, 120_000);
});
