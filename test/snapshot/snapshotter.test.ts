// One suite, run against both snapshotters: prepare on a parent, change, commit, mount read-only,
// apply layers (with whiteouts), and clean up after a crashed owner. Needs root (mounts, mknod).
import { describe, expect, test } from "bun:test";
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mergeInputs } from "../../src/cache/merges.ts";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir } from "../harness.ts";
import { applyTo, freshSnapshotter, IMPLS, layerFile, signal, text } from "./impls.ts";

const skip = skipBecause(!IS_ROOT, `snapshotter suite: ${NEEDS_ROOT}`);

for (const impl of IMPLS) {
  describe.skipIf(skip)(`${impl.name} snapshotter`, () => {
    const setup = () => freshSnapshotter(impl);

    test("layers stack; whiteouts and opaque directories hide what lies below", async () => {
      const { root, s } = setup();
      const base = await applyTo(s, null, await layerFile(root, [
        { name: "etc/", type: "directory", mode: 0o755 },
        { name: "etc/keep", type: "file", mode: 0o644, body: text("keep") },
        { name: "etc/gone", type: "file", mode: 0o600, uid: 1000, gid: 1000, body: text("gone") },
        { name: "opaque/", type: "directory", mode: 0o755 },
        { name: "opaque/old", type: "file", mode: 0o644, body: text("old") },
        { name: "link", type: "symlink", linkname: "/etc/keep" },
      ]));
      const top = await applyTo(s, base, await layerFile(root, [
        { name: "etc/.wh.gone", type: "file", mode: 0o644 },
        { name: "opaque/", type: "directory", mode: 0o700 },
        { name: "opaque/.wh..wh..opq", type: "file", mode: 0o644 },
        { name: "opaque/new", type: "file", mode: 0o644, body: text("new") },
        { name: "hard", type: "link", linkname: "etc/keep" },
      ]));
      await using view = await s.mountReadonly(top);
      expect(readdirSync(`${view.path}/etc`)).toEqual(["keep"]);
      expect(readdirSync(`${view.path}/opaque`)).toEqual(["new"]);
      expect(lstatSync(`${view.path}/opaque`).mode & 0o777).toBe(0o700);
      expect(readFileSync(`${view.path}/hard`, "utf8")).toBe("keep");
      await using lower = await s.mountReadonly(base);
      expect(lstatSync(`${lower.path}/etc/gone`).uid).toBe(1000);
      expect(lstatSync(`${lower.path}/link`).isSymbolicLink()).toBe(true);
    });

    test("a writable snapshot sees its parent, and an uncommitted one is removed on dispose", async () => {
      const { root, s, index } = setup();
      const base = await applyTo(s, null, await layerFile(root, [{ name: "a", type: "file", mode: 0o644, body: text("a") }]));
      let id: number;
      {
        await using active = await s.prepare(base, "exec");
        id = active.id;
        {
          await using m = await active.mount();
          expect(readFileSync(`${m.path}/a`, "utf8")).toBe("a");
          writeFileSync(`${m.path}/b`, "b");
          rmSync(`${m.path}/a`);
        }
        const child = await active.commit();
        await using view = await s.mountReadonly(child);
        expect(readdirSync(view.path)).toEqual(["b"]);
      }
      {
        await using dropped = await s.prepare(base, "exec");
        expect(dropped.id).not.toBe(id);
        expect(existsSync(`${root}/snapshots/${dropped.id}`)).toBe(true);
        id = dropped.id;
      }
      expect(existsSync(`${root}/snapshots/${id}`)).toBe(false);
      expect(index.getSnapshot(id)).toBeUndefined();
      expect(readdirSync(`${root}/mounts`)).toEqual([]);
    });

    test("layer entries that would escape the root are refused", async () => {
      const { root, s } = setup();
      for (const entries of [
        [{ name: "../escape", type: "file" as const, mode: 0o644, body: text("x") }],
        [{ name: "/abs", type: "file" as const, mode: 0o644, body: text("x") }],
        [{ name: "h", type: "link" as const, linkname: "../../etc/passwd" }],
      ]) {
        const blob = await layerFile(root, entries);
        await expect(applyTo(s, null, blob)).rejects.toThrow(/has an absolute path|has a "\.\." component|outside/);
      }
      const evil = await applyTo(s, null, await layerFile(root, [{ name: "etc", type: "symlink", linkname: "/host-etc" }]));
      const through = await applyTo(s, evil, await layerFile(root, [{ name: "etc/passwd", type: "file", mode: 0o644, body: text("pwned") }]));
      await using view = await s.mountReadonly(through);
      expect(existsSync("/host-etc/passwd")).toBe(false);
      expect(readFileSync(`${view.path}/host-etc/passwd`, "utf8")).toBe("pwned");
    });

    test("a merge stacks its inputs' layers, later over earlier, without changing them", async () => {
      const { root, s, index } = freshSnapshotter(impl);
      const base = await applyTo(s, null, await layerFile(root, [
        { name: "shared", type: "file", mode: 0o644, body: text("from base") },
        { name: "only-base", type: "file", mode: 0o644, body: text("b") },
        { name: "doomed", type: "file", mode: 0o644, body: text("d") },
      ]));
      // A separate chain (as COPY --link builds on scratch) whose second layer deletes a path of its
      // first; stacked over the base, that whiteout hides the base's entry of the same name too.
      const link0 = await applyTo(s, null, await layerFile(root, [
        { name: "doomed", type: "file", mode: 0o644, body: text("d") },
        { name: "shared", type: "file", mode: 0o600, body: text("from link") },
      ]));
      const link1 = await applyTo(s, link0, await layerFile(root, [{ name: ".wh.doomed", type: "file", mode: 0o644 }, { name: "new", type: "file", mode: 0o644, body: text("n") }]));
      const merged = await s.merge([base, link1], signal);
      expect(s.layers(merged)).toEqual([base, link0, link1]);
      {
        await using view = await s.mountReadonly(merged);
        expect(readdirSync(view.path).sort()).toEqual(["new", "only-base", "shared"]);
        expect(readFileSync(`${view.path}/shared`, "utf8")).toBe("from link");
        expect(lstatSync(`${view.path}/shared`).mode & 0o777).toBe(0o600);
      }
      await using baseView = await s.mountReadonly(base);
      expect(readdirSync(baseView.path).sort()).toEqual(["doomed", "only-base", "shared"]);
      // A step on top of the merge sees it, and its own layer is just its change.
      await using active = await s.prepare(merged, "exec");
      {
        await using m = await active.mount();
        expect(readFileSync(`${m.path}/new`, "utf8")).toBe("n");
        writeFileSync(`${m.path}/after`, "a");
      }
      const after = await active.commit();
      expect(s.layers(after)).toEqual([base, link0, link1, after]);
      expect(mergeInputs(index.db, merged)).toEqual([base, link1]);
      await expect(s.remove(link1)).rejects.toMatchObject({ code: "E_SNAPSHOT_IN_USE" });
      await s.remove(after);
      await s.remove(merged);
      expect(mergeInputs(index.db, merged)).toEqual([]);
      await s.remove(link1);
    });

    test("a chain of 150 layers mounts, read-only and writable", async () => {
      const { root, s } = freshSnapshotter(impl, tempDir(`kitbuild-deep-${"x".repeat(40)}-`));
      let top: number | null = null;
      for (let i = 0; i < 150; i++) top = await applyTo(s, top, await layerFile(root, [{ name: `f${i}`, type: "file", mode: 0o644, body: text(String(i)) }]));
      await using view = await s.mountReadonly(top as number);
      expect(readdirSync(view.path).length).toBe(150);
      expect(readFileSync(`${view.path}/f0`, "utf8")).toBe("0");
      await using active = await s.prepare(top, "exec");
      await using m = await active.mount();
      expect(readFileSync(`${m.path}/f149`, "utf8")).toBe("149");
    }, 60_000);
  });
}
