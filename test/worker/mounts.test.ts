// RUN mounts through the real solver, op runners, runc and snapshots (hand-built graphs, since the
// frontend does not emit RUN --mount yet): bind mounts from a stage and from the context, read-only
// unless rw, rw writes discarded or exported as an output; tmpfs with a size; mount points made for
// the step leave nothing in its layer. Needs root and runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { output } from "../../src/llb/builder.ts";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, skipBecause, tempDir, testRegistry } from "../harness.ts";
import { context, image, roots as testRoots, run, solve } from "./graph.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `RUN mount tests: ${NEEDS_ROOT_AND_RUNC}`);

let base = "";
beforeAll(async () => {
  if (!skip) base = `${await testRegistry()}/busybox:latest`;
});

const read = (path: string) => readFileSync(path, "utf8");

const roots = () => testRoots("kitbuild-mounts-");

/** A stage with /data/f (owned by 1234) to mount from. */
const dataStage = () => output(run(image(base), "mkdir -p /data && echo from-stage > /data/f && chown 1234:1234 /data/f"));

describe.skipIf(skip)("bind mounts", () => {
  test("a stage mounted read-only at source=; the mount point leaves no trace", async () => {
    const r = roots();
    const script = "cat /mnt/a/f > /seen; stat -c '%u' /mnt/a/f >> /seen; touch /mnt/a/x 2>/dev/null && echo writable > /ro || echo readonly > /ro; ls /mnt/img/bin/busybox > /img";
    const step = run(image(base), script, {
      mounts: [
        { type: "bind", dest: "/mnt/a", input: 1, output: -1, readonly: true, selector: "/data" },
        { type: "bind", dest: "/mnt/img", input: 2, output: -1, readonly: true },
      ],
      inputs: [dataStage(), image(base)],
    });
    const res = await solve(output(step), { ...r, exportTo: r.out });
    expect(res.error).toBeUndefined();
    expect(read(`${r.out}/seen`)).toBe("from-stage\n1234\n");
    expect(read(`${r.out}/img`)).toBe("/mnt/img/bin/busybox\n");
    expect(read(`${r.out}/ro`)).toBe("readonly\n");
    // runc created /mnt and /mnt/a for the mount; both are gone from the result, as in BuildKit.
    expect(existsSync(`${r.out}/mnt`)).toBe(false);
  });

  test("rw: the step writes into the mount, and the writes are discarded", async () => {
    const r = roots();
    const stage = dataStage();
    const writer = run(image(base), "echo new > /mnt/a/data/g && cat /mnt/a/data/g > /rw-seen", {
      mounts: [{ type: "bind", dest: "/mnt/a", input: 1, output: -1, readonly: false }],
      inputs: [stage],
    });
    const checker = run(output(writer), "ls /mnt/b/data > /after", {
      mounts: [{ type: "bind", dest: "/mnt/b", input: 1, output: -1, readonly: true }],
      inputs: [stage],
    });
    const res = await solve(output(checker), { ...r, exportTo: r.out });
    expect(res.error).toBeUndefined();
    expect(read(`${r.out}/rw-seen`)).toBe("new\n");
    expect(read(`${r.out}/after`)).toBe("f\n");
  });

  test("rw with an output: the mount's result is exported as that output", async () => {
    const r = roots();
    const step = run(image(base), "echo added > /mnt/a/data/g && echo root-side > /root-file", {
      mounts: [{ type: "bind", dest: "/mnt/a", input: 1, output: 1, readonly: false }],
      inputs: [dataStage()],
    });
    const res = await solve(output(step, 1), { ...r, exportTo: r.out });
    expect(res.error).toBeUndefined();
    expect(readdirSync(`${r.out}/data`).sort()).toEqual(["f", "g"]);
    expect(read(`${r.out}/data/g`)).toBe("added\n");
    expect(existsSync(`${r.out}/root-file`)).toBe(false);
    // The same vertex's root output is kept apart.
    const rootOut = `${r.work}/root-out`;
    const again = await solve(output(step, 0), { ...r, exportTo: rootOut });
    expect(again.error).toBeUndefined();
    expect(read(`${rootOut}/root-file`)).toBe("root-side\n");
  });

  test("the context: through .dockerignore, owned by root, read-only, keyed by the files it reads", async () => {
    const r = roots();
    const ctx = tempDir("kitbuild-ctx-");
    mkdirSync(`${ctx}/sub`);
    writeFileSync(`${ctx}/sub/a.txt`, "a\n");
    chmodSync(`${ctx}/sub/a.txt`, 0o640);
    chownSync(`${ctx}/sub/a.txt`, 1234, 1234);
    writeFileSync(`${ctx}/sub/ignored.txt`, "ignored\n");
    writeFileSync(`${ctx}/outside.txt`, "outside\n");
    const ctxNode = output({ ...context().node, op: { kind: "source", identifier: "local://context", attrs: { excludepatterns: JSON.stringify(["sub/ignored.txt"]) } } });
    const step = () =>
      run(image(base), "ls -ln /ctx | tail -n +2 | awk '{print $1, $3, $4, $9}' > /listing; touch /ctx/x 2>/dev/null || echo readonly >> /listing", {
        mounts: [{ type: "bind", dest: "/ctx", input: 1, output: -1, readonly: true, selector: "/sub" }],
        inputs: [ctxNode],
      });
    const first = await solve(output(step()), { ...r, contextDir: ctx, exportTo: r.out });
    expect(first.error).toBeUndefined();
    // As BuildKit shows a context bind mount: owners reset to 0, modes kept (checked with docker build).
    expect(read(`${r.out}/listing`)).toBe("-rw-r----- 0 0 a.txt\nreadonly\n");
    const ran = (res: { events: Array<{ type: string; name?: string; cached?: boolean; completed?: number }> }) =>
      res.events.some((e) => e.type === "vertex" && e.name?.startsWith("RUN ls") && e.completed !== undefined && !e.cached);
    // A file the mount does not select changes nothing; one it selects makes the step run again.
    writeFileSync(`${ctx}/outside.txt`, "changed\n");
    writeFileSync(`${ctx}/sub/ignored.txt`, "changed\n");
    expect(ran(await solve(output(step()), { ...r, contextDir: ctx }))).toBe(false);
    writeFileSync(`${ctx}/sub/a.txt`, "changed\n");
    expect(ran(await solve(output(step()), { ...r, contextDir: ctx }))).toBe(true);
  });

  test("a missing source= is a clear error", async () => {
    const r = roots();
    const step = run(image(base), "true", {
      mounts: [{ type: "bind", dest: "/mnt", input: 1, output: -1, readonly: true, selector: "/nope" }],
      inputs: [dataStage()],
    });
    const res = await solve(output(step), r);
    expect(String(res.error)).toContain('mount source "/nope" for "/mnt" does not exist');
  });
});

describe.skipIf(skip)("tmpfs and mount points", () => {
  test("tmpfs with a size; nothing written there reaches the layer", async () => {
    const r = roots();
    const step = run(image(base), "df -k /t | tail -1 | awk '{print $2}' > /size; echo x > /t/file; mount | grep ' /t ' | cut -d' ' -f5 > /type", {
      mounts: [{ type: "tmpfs", dest: "/t", input: -1, output: -1, readonly: false, tmpfs: { size: 1024 * 1024 } }],
    });
    const res = await solve(output(step), { ...r, exportTo: r.out });
    expect(res.error).toBeUndefined();
    expect(read(`${r.out}/size`)).toBe("1024\n");
    expect(read(`${r.out}/type`)).toBe("tmpfs\n");
    expect(existsSync(`${r.out}/t`)).toBe(false);
  });

  test("nested mount points created for the step are removed, under an existing directory too", async () => {
    const r = roots();
    const before = `${r.work}/before`;
    const baseRes = await solve(image(base), { ...r, exportTo: before });
    expect(baseRes.error).toBeUndefined();
    const step = run(image(base), "ls -d /a/b/c /tmp/m > /seen", {
      mounts: [
        { type: "tmpfs", dest: "/a/b/c", input: -1, output: -1, readonly: false },
        { type: "tmpfs", dest: "/tmp/m", input: -1, output: -1, readonly: false },
      ],
    });
    const res = await solve(output(step), { ...r, exportTo: r.out });
    expect(res.error).toBeUndefined();
    expect(read(`${r.out}/seen`)).toBe("/a/b/c\n/tmp/m\n");
    expect(existsSync(`${r.out}/a`)).toBe(false);
    expect(readdirSync(`${r.out}/tmp`)).toEqual([]);
    // /tmp keeps its mode; its mtime shows the stub's creation, as BuildKit's stub cleaner leaves it.
    expect(lstatSync(`${r.out}/tmp`).mode).toBe(lstatSync(`${before}/tmp`).mode);
  });
});

describe.skipIf(skip)("release", () => {
  test("after a step with every kind of mount, succeeded or failed, nothing is left running or mounted", async () => {
    const r = roots();
    const secretFile = `${r.work}/s`;
    writeFileSync(secretFile, "value");
    const step = (script: string) =>
      run(image(base), script, {
        mounts: [
          { type: "bind", dest: "/ro", input: 1, output: -1, readonly: true },
          { type: "bind", dest: "/rw", input: 1, output: -1, readonly: false },
          { type: "cache", dest: "/cache", input: -1, output: -1, readonly: false, cache: { id: "c", sharing: "locked" } },
          { type: "tmpfs", dest: "/tmpfs", input: -1, output: -1, readonly: false },
          { type: "secret", dest: "/run/secrets/s", input: -1, output: -1, readonly: true, secret: { id: "s", uid: 0, gid: 0, mode: 0o400, optional: false } },
        ],
        inputs: [dataStage()],
      });
    for (const [script, fails] of [["touch /rw/x /cache/x /tmpfs/x", false], ["touch /rw/x; exit 7", true]] as const) {
      const res = await solve(output(step(script)), { ...r, exec: { secrets: [{ id: "s", file: secretFile }] } });
      expect(res.error === undefined).toBe(!fails);
      expect(readFileSync("/proc/mounts", "utf8")).not.toContain(r.root);
      expect(Bun.spawnSync(["runc", "--root", r.runcRoot, "list", "--quiet"]).stdout.toString()).toBe("");
      expect(readdirSync(`${r.root}/executor`)).toEqual([]);
      expect(readdirSync(`${r.root}/mounts`)).toEqual([]);
    }
  });
});
