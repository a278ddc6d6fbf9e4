// The "transferring context: N" line of the context load, as BuildKit prints it: N is what the build
// had to read of the paths it uses (files unchanged since the last build come from the hash memo),
// so a no-op rebuild shows 0B and a file the Dockerfile never reads never counts. Needs root and runc.
import { describe, expect, test } from "bun:test";
import { appendFileSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { formatBytes } from "../../src/util/units.ts";
import { expectExit, HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `context transfer tests: ${NEEDS_ROOT_AND_RUNC}`);

/** The context load's lines: "#N [internal] load build context" up to its DONE. */
function contextLoad(stderr: string): string {
  const m = /#(\d+) \[internal\] load build context\n([\s\S]*?)#\1 DONE/.exec(stderr);
  return m?.[2] ?? `(no context load in)\n${stderr}`;
}

describe.skipIf(skip)("transferring context (compiled binary)", () => {
  test("the first build reads what it copies, a no-op rebuild 0B, a change only the changed file", async () => {
    const registry = await testRegistry();
    const ctx = tempDir("kitbuild-ctx-");
    const work = tempDir();
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nCOPY hello.txt data.bin /app/\n`);
    writeFileSync(`${ctx}/hello.txt`, "hello\n");
    writeFileSync(`${ctx}/data.bin`, Buffer.alloc(3000, 7));
    writeFileSync(`${ctx}/unread.bin`, Buffer.alloc(5000, 1));
    // Files changed within the clock's last tick are not memoized (they could change unseen): let them age.
    await Bun.sleep(300);
    const build = () => runKitbuild(["build", "--progress=plain", ctx], { env: { KITBUILD_ROOT: `${work}/root` }, timeoutMs: 300_000 });

    const first = await build();
    expectExit(first, 0);
    const read = statSync(`${ctx}/hello.txt`).size + statSync(`${ctx}/data.bin`).size;
    expect(contextLoad(first.stderr)).toContain(`transferring context: ${formatBytes(read)} done`);

    const noop = await build();
    expectExit(noop, 0);
    expect(contextLoad(noop.stderr)).toContain("transferring context: 0B done");

    appendFileSync(`${ctx}/hello.txt`, "again\n");
    await Bun.sleep(300);
    const changed = await build();
    expectExit(changed, 0);
    expect(contextLoad(changed.stderr)).toContain(`transferring context: ${formatBytes(statSync(`${ctx}/hello.txt`).size)} done`);
  }, 600_000);

  test("a file added to a directory after a build is copied by the next one: the directory is listed again", async () => {
    const registry = await testRegistry();
    const ctx = tempDir("kitbuild-ctx-");
    const work = tempDir();
    mkdirSync(`${ctx}/src/sub`, { recursive: true });
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nCOPY src /app/\n`);
    writeFileSync(`${ctx}/src/sub/a.txt`, "a");
    // Old enough for its listing to be remembered.
    await Bun.sleep(300);
    const build = (out: string) => runKitbuild(["build", "--progress=plain", "-o", `type=local,dest=${out}`, ctx], { env: { KITBUILD_ROOT: `${work}/root` }, timeoutMs: 300_000 });
    expectExit(await build(`${work}/first`), 0);
    expect(readdirSync(`${work}/first/app/sub`)).toEqual(["a.txt"]);
    writeFileSync(`${ctx}/src/sub/b.txt`, "b");
    const second = await build(`${work}/second`);
    expectExit(second, 0);
    expect(readdirSync(`${work}/second/app/sub`).sort()).toEqual(["a.txt", "b.txt"]);
    expect(second.stderr).not.toMatch(/COPY src \/app\/\n#\d+ CACHED/);
  }, 600_000);
});
