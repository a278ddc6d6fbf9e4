// The cache, through the compiled binary: what invalidates a step and what does not, several
// processes on one cache root, and SIGKILL at random moments. Needs root and runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { lstatSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { checkCache } from "../../src/control/cache-check.ts";
import { readConfig } from "../../src/control/config.ts";
import { openEnvironment } from "../../src/control/environment.ts";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry, expectExit } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `cache e2e tests: ${NEEDS_ROOT_AND_RUNC}`);

let registry = "";
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
});

/** A context whose Dockerfile copies only src/, and runs one step per copied thing. */
function context(): string {
  const ctx = tempDir("kitbuild-ctx-");
  Bun.spawnSync(["mkdir", "-p", `${ctx}/src`, `${ctx}/docs`]);
  writeFileSync(`${ctx}/src/a.txt`, "alpha\n");
  writeFileSync(`${ctx}/src/b.txt`, "bravo\n");
  writeFileSync(`${ctx}/src/ignored.log`, "noise\n");
  writeFileSync(`${ctx}/docs/readme.md`, "not copied\n");
  writeFileSync(`${ctx}/.dockerignore`, "src/*.log\n");
  writeFileSync(
    `${ctx}/Dockerfile`,
    [
      `FROM ${registry}/busybox`,
      "RUN echo base > /base.txt",
      "COPY src /src",
      "RUN cat /src/*.txt > /all.txt",
      "",
    ].join("\n"),
  );
  return ctx;
}

const build = (ctx: string, root: string, out: string, extra: string[] = []) =>
  runKitbuild(["build", "--progress=plain", ...extra, "-o", out, ctx], { env: { KITBUILD_ROOT: root } });

/** How each step ended in a plain-progress log ("DONE", "CACHED", "ERROR…"), by its full name. */
function outcomes(stderr: string): Map<string, string> {
  const names = new Map<string, string>();
  const out = new Map<string, string>();
  for (const line of stderr.split("\n")) {
    const head = /^#(\d+) (\[.*)$/.exec(line);
    if (head) names.set(head[1] as string, head[2] as string);
    const end = /^#(\d+) (DONE|CACHED|ERROR|CANCELED)\b/.exec(line);
    const name = end ? names.get(end[1] as string) : undefined;
    if (end && name) out.set(name, end[2] as string);
  }
  return out;
}

/** The "[n/N]" of the steps a plain-progress log shows as CACHED. */
function cachedSteps(stderr: string): string[] {
  return [...outcomes(stderr)].filter(([, o]) => o === "CACHED").map(([n]) => n.replace(/ .*/, "")).filter((n) => n.startsWith("[")).sort();
}

describe.skipIf(skip)("the local cache", () => {
  test("a second identical build is all CACHED; only what a changed copied file feeds re-runs", async () => {
    const ctx = context();
    const work = tempDir();
    const root = `${work}/root`;
    expectExit(await build(ctx, root, `${work}/o1`), 0);
    const second = await build(ctx, root, `${work}/o2`);
    expectExit(second, 0);
    expect(cachedSteps(second.stderr)).toEqual(["[1/4]", "[2/4]", "[3/4]", "[4/4]"]);
    expect(readFileSync(`${work}/o2/all.txt`, "utf8")).toBe(readFileSync(`${work}/o1/all.txt`, "utf8"));

    // Files no step copies, or that .dockerignore leaves out, invalidate nothing.
    writeFileSync(`${ctx}/docs/readme.md`, "changed but not copied\n");
    writeFileSync(`${ctx}/src/ignored.log`, "changed but ignored\n");
    const third = await build(ctx, root, `${work}/o3`);
    expect(cachedSteps(third.stderr)).toEqual(["[1/4]", "[2/4]", "[3/4]", "[4/4]"]);

    writeFileSync(`${ctx}/src/b.txt`, "BRAVO\n");
    const fourth = await build(ctx, root, `${work}/o4`);
    expectExit(fourth, 0);
    expect(cachedSteps(fourth.stderr)).toEqual(["[1/4]", "[2/4]"]);
    expect(readFileSync(`${work}/o4/all.txt`, "utf8")).toBe("alpha\nBRAVO\n");
  });

  test("a rewrite that keeps size and mtime is still seen (ctime), unlike moby/buildkit#4817", async () => {
    const ctx = context();
    const work = tempDir();
    const root = `${work}/root`;
    const file = `${ctx}/src/a.txt`;
    // Old enough (mtime and ctime) that the first build remembers its digest rather than
    // treating it as possibly still being written.
    utimesSync(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    await Bun.sleep(300);
    expectExit(await build(ctx, root, `${work}/o1`), 0);
    const before = lstatSync(file, { bigint: true });
    writeFileSync(file, "ALPHA\n");
    utimesSync(file, before.atime, before.mtime);
    const after = lstatSync(file, { bigint: true });
    expect(after.size).toBe(before.size);
    expect(after.mtimeNs).toBe(before.mtimeNs);
    const res = await build(ctx, root, `${work}/o2`);
    expectExit(res, 0);
    expect(cachedSteps(res.stderr)).toEqual(["[1/4]", "[2/4]"]);
    expect(readFileSync(`${work}/o2/all.txt`, "utf8")).toBe("ALPHA\nbravo\n");
  });

  test("four builds started at once on one cache root all succeed with identical output, each step run once", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nRUN sleep 1; head -c 16 /dev/urandom | od -x > /random\nRUN cat /random > /copy\n`);
    const work = tempDir();
    const root = `${work}/root`;
    const results = await Promise.all([1, 2, 3, 4].map((i) => build(ctx, root, `${work}/o${i}`)));
    for (const r of results) expectExit(r, 0);
    const outputs = [1, 2, 3, 4].map((i) => readFileSync(`${work}/o${i}/copy`, "utf8"));
    expect(new Set(outputs).size).toBe(1);
    // The random step ran in one process; the others waited for it and reused its result.
    const ran = results.filter((r) => [...outcomes(r.stderr)].some(([name, o]) => name.includes("RUN sleep 1") && o === "DONE")).length;
    expect(ran).toBe(1);
  }, 60_000);

  test("SIGKILL at random moments leaves a cache that the next build uses and a check finds intact", async () => {
    const ctx = context();
    writeFileSync(`${ctx}/Dockerfile`, `${readFileSync(`${ctx}/Dockerfile`, "utf8")}RUN for i in 1 2 3 4 5; do echo $i >> /slow; sleep 0.1; done\n`);
    const work = tempDir();
    const root = `${work}/root`;
    const runcRoot = `${work}/runc`;
    for (let i = 0; i < 20; i++) {
      writeFileSync(`${ctx}/src/a.txt`, `round ${i}\n`);
      const delay = Math.floor(Math.random() * 900);
      const res = await runKitbuild(["build", "--progress=plain", "-o", `${work}/k${i}`, ctx], {
        env: { KITBUILD_ROOT: root, KITBUILD_RUNC_ROOT: runcRoot },
        onStderr: (_t, child) => void setTimeout(() => child.kill("SIGKILL"), delay),
      });
      if (!(res.signal === "SIGKILL" || res.code === 0)) expectExit(res, 0, `round ${i} (killed after ${delay} ms)`);
    }
    const final = await runKitbuild(["build", "--progress=plain", "-o", `${work}/final`, ctx], { env: { KITBUILD_ROOT: root, KITBUILD_RUNC_ROOT: runcRoot } });
    expectExit(final, 0);
    expect(readFileSync(`${work}/final/all.txt`, "utf8")).toBe("round 19\nbravo\n");
    expect(readFileSync("/proc/mounts", "utf8")).not.toContain(root);
    const list = Bun.spawnSync(["runc", "--root", runcRoot, "list", "--quiet"]);
    expect(list.stdout.toString().trim()).toBe("");
    const settings = { KITBUILD_ROOT: root, KITBUILD_RUNC_ROOT: runcRoot };
    await using env = await openEnvironment({ config: readConfig(settings), env: settings, insecureRegistries: [] });
    expect(await checkCache(env)).toEqual([]);
    expect(env.index.allSnapshots().filter((s) => s.state !== "committed")).toEqual([]);
  }, 180_000);

  test("prune never removes what a running build holds", async () => {
    const ctx = context();
    const work = tempDir();
    const root = `${work}/root`;
    expectExit(await build(ctx, root, `${work}/o1`), 0);
    writeFileSync(`${ctx}/Dockerfile`, `${readFileSync(`${ctx}/Dockerfile`, "utf8")}RUN sleep 2; cat /all.txt > /final.txt\n`);
    let pruned: Promise<Awaited<ReturnType<typeof runKitbuild>>> | undefined;
    const running = runKitbuild(["build", "--progress=plain", "-o", `${work}/o2`, ctx], {
      env: { KITBUILD_ROOT: root },
      onStderr: (text) => {
        if (!pruned && text.includes("RUN sleep 2")) pruned = runKitbuild(["prune", "-af"], { env: { KITBUILD_ROOT: root } });
      },
    });
    const res = await running;
    expectExit(res, 0);
    expect(readFileSync(`${work}/o2/final.txt`, "utf8")).toBe("alpha\nbravo\n");
    const pruneRes = await pruned;
    expect(pruneRes).toBeDefined();
    if (pruneRes) expectExit(pruneRes, 0);
    // What the build used survived the prune: a rebuild is still all cached.
    const again = await build(ctx, root, `${work}/o3`);
    expect(cachedSteps(again.stderr)).toEqual(["[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"]);
  }, 60_000);

  test("du lists records by kind; prune -af empties the cache", async () => {
    const ctx = context();
    const work = tempDir();
    const root = `${work}/root`;
    expectExit(await build(ctx, root, `${work}/o1`), 0);
    const du = await runKitbuild(["du"], { env: { KITBUILD_ROOT: root } });
    expectExit(du, 0);
    expect(du.stdout).toMatch(/^layer\s+1 records/m);
    expect(du.stdout).toMatch(/^exec\s+2 records/m);
    expect(du.stdout).toMatch(/^Total:\s+\S+/m);
    const prune = await runKitbuild(["prune", "-a", "-f"], { env: { KITBUILD_ROOT: root } });
    expectExit(prune, 0);
    expect(prune.stdout).toContain("Deleted build cache objects:");
    const after = await runKitbuild(["du"], { env: { KITBUILD_ROOT: root } });
    expect(after.stdout).toMatch(/^Total:\s+0B$/m);
    const noForce = await runKitbuild(["prune"], { env: { KITBUILD_ROOT: root } });
    expectExit(noForce, 2);
    expect(noForce.stderr).toContain("pass -f");
  });
});
