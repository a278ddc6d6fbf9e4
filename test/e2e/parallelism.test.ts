// How many steps run at once: without --max-parallelism there is no limit (BuildKit's default), so
// four independent stages whose RUN steps wait for each other all finish; with --max-parallelism 2
// two of them wait for stages that cannot start, and the build fails when their wait runs out. The
// rendezvous is a shared cache mount; nothing here measures time. Needs root and runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, expectExit, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `parallelism e2e tests: ${NEEDS_ROOT_AND_RUNC}`);

let registry = "";
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
});

/** Four stages that each leave a mark in a shared cache mount, then wait (up to `waitSeconds`) for all four marks. */
function rendezvousContext(waitSeconds: number): string {
  const ctx = tempDir("kitbuild-ctx-");
  const stages = [1, 2, 3, 4].map((n) => [
    `FROM ${registry}/busybox AS s${n}`,
    `RUN --mount=type=cache,id=rendezvous-${ctx.split("/").pop()},target=/r,sharing=shared touch /r/${n} && ` +
      `i=0; while [ $(ls /r | wc -l) -lt 4 ]; do i=$((i+1)); [ $i -gt ${waitSeconds * 10} ] && { echo "only $(ls /r | wc -l) of 4 steps ran at once"; exit 1; }; sleep 0.1; done; echo met > /s${n}`,
  ]);
  const final = [`FROM ${registry}/busybox`, ...[1, 2, 3, 4].map((n) => `COPY --from=s${n} /s${n} /`)];
  writeFileSync(`${ctx}/Dockerfile`, [...stages.flat(), ...final, ""].join("\n"));
  return ctx;
}

async function build(ctx: string, args: string[]) {
  const work = tempDir();
  const res = await runKitbuild(["build", "--progress=plain", "-o", `${work}/out`, ...args, ctx], { env: { KITBUILD_ROOT: `${work}/root` } });
  return { res, out: `${work}/out` };
}

describe.skipIf(skip)("steps at once", () => {
  test("without --max-parallelism, four independent steps that wait for each other all run at once", async () => {
    const { res, out } = await build(rendezvousContext(120), []);
    expectExit(res, 0);
    for (const n of [1, 2, 3, 4]) expect(readFileSync(`${out}/s${n}`, "utf8")).toBe("met\n");
  }, 300_000);

  test("--max-parallelism 2 bounds them: the two running steps never meet the other two", async () => {
    const { res } = await build(rendezvousContext(3), ["--max-parallelism", "2"]);
    expectExit(res, 1);
    expect(res.stderr).toContain("of 4 steps ran at once");
  }, 300_000);
});
