// mountForNew: a COPY under a top directory its base does not have writes overlay's upper directory
// unmounted. The layer it leaves must be the one a copy through the overlay mount leaves, and a top
// the base has (or a whiteout hides) must be treated as the base says. Needs root (mounts).
import { describe, expect, test } from "bun:test";
import { chownSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { copyInto } from "../../src/file/copy.ts";
import type { Snapshotter } from "../../src/snapshot/snapshotter.ts";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir } from "../harness.ts";
import { applyTo, freshSnapshotter, IMPLS, layerFile, signal, text } from "./impls.ts";

const skip = skipBecause(!IS_ROOT, `mountForNew tests: ${NEEDS_ROOT}`);

function context(): string {
  const dir = tempDir("kitbuild-src-");
  mkdirSync(`${dir}/d/e`, { recursive: true });
  writeFileSync(`${dir}/d/e/f.txt`, "deep");
  writeFileSync(`${dir}/a.txt`, "a");
  symlinkSync("a.txt", `${dir}/link`);
  chownSync(`${dir}/a.txt`, 1234, 1234);
  return dir;
}

async function base(s: Snapshotter, root: string): Promise<number> {
  const first = await applyTo(s, null, await layerFile(root, [
    { name: "etc/", type: "directory", mode: 0o755 },
    { name: "etc/keep", type: "file", mode: 0o644, body: text("keep") },
    { name: "gone/", type: "directory", mode: 0o755 },
    { name: "gone/old", type: "file", mode: 0o644, body: text("old") },
  ]));
  return applyTo(s, first, await layerFile(root, [{ name: ".wh.gone", type: "file", mode: 0o644 }]));
}

/** Copies the context to `dest` in a snapshot on `parent`, through mountForNew(top) or mount(). */
async function copied(s: Snapshotter, parent: number, src: string, dest: string, top?: string): Promise<{ id: number; mounted: boolean }> {
  await using active = await s.prepare(parent, "file");
  let mounted: boolean;
  {
    await using m = await (top ? active.mountForNew(top) : active.mount());
    mounted = readFileSync("/proc/self/mountinfo", "utf8").includes(` ${m.path} `);
    await copyInto({ root: src, resetOwner: false }, m.path, { src: "/", dest, followSymlinks: false, dirCopyContents: true, createDestPath: true, allowWildcard: false, allowEmptyWildcard: false }, signal);
  }
  return { id: await active.commit(), mounted };
}

async function diffId(s: Snapshotter, id: number): Promise<string> {
  const diff = s.diff(id, { sourceDateEpoch: 86_400, signal });
  for await (const _ of diff.stream) {
    // read to the end
  }
  return (await diff.done).diffId;
}

for (const impl of IMPLS) {
  describe.skipIf(skip)(`${impl.name}: mountForNew`, () => {
    test("a new top directory gives the layer a copy through mount() gives", async () => {
      const { root, s } = freshSnapshotter(impl);
      const parent = await base(s, root);
      const src = context();
      for (const [dest, top] of [["/src/", "/src"], ["/gone/x/", "/gone"]] as const) {
        const fast = await copied(s, parent, src, dest, top);
        const slow = await copied(s, parent, src, dest);
        expect(await diffId(s, fast.id)).toBe(await diffId(s, slow.id));
        // Only overlay has something to skip: its own directory is written as it is.
        expect(fast.mounted).toBe(false);
        expect(slow.mounted).toBe(impl.name === "overlay");
        await using view = await s.mountReadonly(fast.id);
        expect(readFileSync(`${view.path}/etc/keep`, "utf8")).toBe("keep");
        expect(readFileSync(`${view.path}${dest}d/e/f.txt`, "utf8")).toBe("deep");
        if (top === "/gone") expect(readdirSync(`${view.path}/gone`)).toEqual(["x"]);
      }
    });

    test("a top directory the base has is written through the mount, over the base's entries", async () => {
      const { root, s } = freshSnapshotter(impl);
      const parent = await base(s, root);
      const fast = await copied(s, parent, context(), "/etc/", "/etc");
      expect(fast.mounted).toBe(impl.name === "overlay");
      await using view = await s.mountReadonly(fast.id);
      expect(readdirSync(`${view.path}/etc`).sort()).toEqual(["a.txt", "d", "keep", "link"]);
    });

    test("a top that is not one name below the root is written through the mount", async () => {
      const { root, s } = freshSnapshotter(impl);
      const parent = await base(s, root);
      for (const top of ["/", "/src/x", "/..", "src"]) {
        await using active = await s.prepare(parent, "file");
        await using m = await active.mountForNew(top);
        expect(readFileSync(`${m.path}/etc/keep`, "utf8")).toBe("keep");
      }
    });
  });
}
