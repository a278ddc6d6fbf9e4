// A step's environment as BuildKit completes it: PATH when the image sets none, HOME from
// /etc/passwd, proxy variables passed to the step but kept out of its cache key. Needs root and runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { output } from "../../src/llb/builder.ts";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, skipBecause, testRegistry } from "../harness.ts";
import { image, roots, run, solve } from "./graph.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `step environment tests: ${NEEDS_ROOT_AND_RUNC}`);

let base = "";
beforeAll(async () => {
  if (!skip) base = `${await testRegistry()}/busybox:latest`;
});

describe.skipIf(skip)("the step's environment", () => {
  test("PATH and HOME filled in; proxies reach the step but not the cache key", async () => {
    const r = roots("kitbuild-env-");
    const step = (proxy: string) =>
      output(run(image(base), 'echo "$PATH" > /env; echo "$HOME" >> /env; echo "$HTTP_PROXY" >> /env', { env: [], proxyEnv: { HTTP_PROXY: proxy } }));
    const first = await solve(step("http://proxy.one:3128"), { ...r, exportTo: r.out });
    expect(first.error).toBeUndefined();
    expect(readFileSync(`${r.out}/env`, "utf8")).toBe("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/root\nhttp://proxy.one:3128\n");
    const second = await solve(step("http://proxy.two:3128"), r);
    expect(second.error).toBeUndefined();
    const runs = second.events.filter((e) => e.type === "vertex" && e.name?.startsWith("RUN") && e.completed !== undefined);
    expect(runs.map((e) => e.type === "vertex" && e.cached)).toEqual([true]);
  });

  test("a missing working directory is created for the step's user; open files limited to 1024", async () => {
    const r = roots("kitbuild-env-");
    const step = run(image(base), "pwd > /tmp/cwd; stat -c '%u %g %a' . >> /tmp/cwd; ulimit -n >> /tmp/cwd; ulimit -Hn >> /tmp/cwd", { cwd: "/work/dir", user: "user" });
    const res = await solve(output(step), { ...r, exportTo: r.out });
    expect(res.error).toBeUndefined();
    const hard = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"))?.trim().split(/\s+/)[4];
    // Created as BuildKit does: 0755, owned by the step's user; it stays in the layer.
    expect(readFileSync(`${r.out}/tmp/cwd`, "utf8")).toBe(`/work/dir\n1000 1000 755\n1024\n${hard}\n`);
    expect(statSync(`${r.out}/work/dir`).isDirectory()).toBe(true);
  });
});
