// Layers from snapshots, on both snapshotters: a snapshot changed through its mount (files added,
// changed, removed; a directory removed and made again; owners, modes, links, xattrs) diffs to a
// layer that, applied onto its parent, gives the same tree again; deletions are OCI whiteouts, a
// remade directory is opaque on overlay; the tar is deterministic and SOURCE_DATE_EPOCH clamps it.
// Also the overlay upper-dir conversion on a hand-made upper dir with user.* markers (rootless).
import { describe, expect, test } from "bun:test";
import { chmodSync, chownSync, linkSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { Readable } from "node:stream";
import { overlayChanges } from "../../src/snapshot/changes-overlay.ts";
import { applyLayerStream } from "../../src/snapshot/layer-apply.ts";
import { writeLayerTar, type LayerDiff } from "../../src/snapshot/layer-diff.ts";
import type { Snapshotter } from "../../src/snapshot/snapshotter.ts";
import { lsetxattr, mknod, S_IFCHR } from "../../src/fs/libc.ts";
import { readTar, type TarHeader } from "../../src/archive/tar-reader.ts";
import { IS_ROOT, NEEDS_ROOT, openPathsUnder, skipBecause, tempDir } from "../harness.ts";
import { describeTree } from "../tree.ts";
import { applyEntries, freshSnapshotter, IMPLS, signal, text } from "./impls.ts";

const skip = skipBecause(!IS_ROOT, `layer diff suite: ${NEEDS_ROOT}`);

async function collect(diff: LayerDiff): Promise<Buffer> {
  return Buffer.concat(await Array.fromAsync(diff.stream as AsyncIterable<Buffer>));
}


async function entries(tar: Buffer): Promise<TarHeader[]> {
  const out: TarHeader[] = [];
  for await (const { header } of readTar(Readable.from([tar]))) out.push(header);
  return out;
}

/** A base layer, and on it a snapshot changed through its mount in every way a RUN step can. */
async function changedSnapshot(s: Snapshotter, work: string): Promise<{ base: number; top: number }> {
  const base = await applyEntries(s, null, work, [
    { name: "etc/", type: "directory", mode: 0o755 },
    { name: "etc/keep", type: "file", mode: 0o644, body: text("keep") },
    { name: "etc/change", type: "file", mode: 0o644, body: text("old") },
    { name: "etc/gone", type: "file", mode: 0o644, body: text("gone") },
    { name: "remade/", type: "directory", mode: 0o755 },
    { name: "remade/old", type: "file", mode: 0o644, body: text("old") },
    { name: "tree/", type: "directory", mode: 0o755 },
    { name: "tree/deep/", type: "directory", mode: 0o755 },
    { name: "tree/deep/file", type: "file", mode: 0o644, body: text("deep") },
    { name: "untouched/", type: "directory", mode: 0o755 },
    { name: "untouched/file", type: "file", mode: 0o644, body: text("same") },
    { name: "mode-only", type: "file", mode: 0o644, body: text("m") },
  ]);
  await using active = await s.prepare(base, "exec");
  {
    await using m = await active.mount();
    const r = m.path;
    writeFileSync(`${r}/etc/change`, "new content");
    rmSync(`${r}/etc/gone`);
    rmSync(`${r}/remade`, { recursive: true });
    mkdirSync(`${r}/remade`);
    writeFileSync(`${r}/remade/new`, "new");
    rmSync(`${r}/tree`, { recursive: true });
    chmodSync(`${r}/mode-only`, 0o600);
    mkdirSync(`${r}/added/sub`, { recursive: true });
    writeFileSync(`${r}/added/sub/file`, "added");
    chownSync(`${r}/added/sub/file`, 1234, 5678);
    symlinkSync("../etc/keep", `${r}/added/link`);
    linkSync(`${r}/added/sub/file`, `${r}/added/hard`);
    writeFileSync(`${r}/added/xattr`, "x");
    lsetxattr(`${r}/added/xattr`, "user.binary", Buffer.from([0xff, 0x00]));
    writeFileSync(`${r}/ünïcødé ${"long".repeat(30)}`, "u");
  }
  return { base, top: await active.commit() };
}

for (const impl of IMPLS) {
  describe.skipIf(skip)(`layer diffs on ${impl.name}`, () => {
    test("the diff applied onto the parent gives the snapshot's tree again", async () => {
      const { root, s } = freshSnapshotter(impl);
      const { base, top } = await changedSnapshot(s, root);
      const diff = s.diff(top, { signal });
      await using active = await s.prepare(base, "check");
      {
        await using m = await active.mount();
        const applied = await applyLayerStream(diff.stream, "uncompressed", m.path, { preserveOwner: true, signal });
        expect(applied.diffId).toBe((await diff.done).diffId);
      }
      const again = await active.commit();
      await using want = await s.mountReadonly(top);
      await using got = await s.mountReadonly(again);
      expect(describeTree(got.path, { mtimes: true })).toEqual(describeTree(want.path, { mtimes: true }));
    });

    test("deletions are OCI whiteouts; the tar holds only changes, sorted, hardlinks as links", async () => {
      const { root, s } = freshSnapshotter(impl);
      const { top } = await changedSnapshot(s, root);
      const headers = await entries(await collect(s.diff(top, { signal })));
      const names = headers.map((h) => h.name);
      expect(names).toContain("etc/.wh.gone");
      expect(names).toContain(".wh.tree");
      expect(names).toContain("etc/change");
      expect(names).not.toContain("etc/keep");
      expect(names.some((n) => n.startsWith("untouched"))).toBe(false);
      // The remade directory hides what the base had: opaque on overlay, a whiteout per entry natively.
      expect(names.includes("remade/.wh..wh..opq") || names.includes("remade/.wh.old")).toBe(true);
      expect(names.indexOf("added/")).toBeLessThan(names.indexOf("added/sub/"));
      expect(headers.find((h) => h.name === "added/sub/file")).toMatchObject({ uid: 1234, gid: 5678 });
      const hard = headers.filter((h) => h.name === "added/hard" || h.name === "added/sub/file");
      expect(hard.map((h) => h.type).sort()).toEqual(["file", "link"]);
      expect(headers.find((h) => h.name === "added/xattr")?.xattrs.get("user.binary")).toEqual(Buffer.from([0xff, 0x00]));
      for (const h of headers.filter((h) => h.name.includes(".wh."))) expect(h).toMatchObject({ type: "file", size: 0, uid: 0, gid: 0 });
    });

    test("diffs are deterministic; SOURCE_DATE_EPOCH clamps mtimes", async () => {
      const { root, s } = freshSnapshotter(impl);
      const { top } = await changedSnapshot(s, root);
      const one = s.diff(top, { signal });
      const two = s.diff(top, { signal });
      expect(await collect(one)).toEqual(await collect(two));
      expect((await one.done).diffId).toBe((await two.done).diffId);
      const clamped = await entries(await collect(s.diff(top, { sourceDateEpoch: 86_400, signal })));
      for (const h of clamped) expect(h.mtimeNs <= 86_400_000_000_000n).toBe(true);
      expect(clamped.find((h) => h.name === ".wh.tree")?.mtimeNs).toBe(86_400_000_000_000n);
    });

    test("a diff read to its end records an overlay snapshot's size, as a walk of it measures; one cut short records none; both close the directories they walked", async () => {
      const { root, index, s } = freshSnapshotter(impl);
      const { top } = await changedSnapshot(s, root);
      const cut = s.diff(top, { signal: AbortSignal.abort() });
      await expect(collect(cut)).rejects.toThrow();
      expect(index.getSnapshot(top)?.size).toBeNull();
      await collect(s.diff(top, { signal }));
      // The native snapshotter's diff compares two trees; its size is still measured when needed.
      expect(index.getSnapshot(top)?.size).toBe(impl.name === "overlay" ? await s.diskUsage(top) : null);
      // The walk's directories and files, open while it reads them, are closed either way.
      expect(openPathsUnder(root).filter((p) => !p.startsWith(`${root}/index.db`))).toEqual([]);
    });

    test("a layer snapshot with no parent diffs to its whole tree", async () => {
      const { root, s } = freshSnapshotter(impl);
      const only = await applyEntries(s, null, root, [{ name: "a/", type: "directory", mode: 0o700 }, { name: "a/b", type: "file", mode: 0o600, body: text("b") }]);
      const headers = await entries(await collect(s.diff(only, { signal })));
      expect(headers.map((h) => [h.name, h.mode])).toEqual([["a/", 0o700], ["a/b", 0o600]]);
      expect(s.layers(only)).toEqual([only]);
    });
  });
}

describe.skipIf(skip)("overlay upper dirs", () => {
  test("0/0 devices, whiteout-xattr files and user.overlay.opaque (userxattr mounts) become OCI markers", async () => {
    const upper = tempDir("kitbuild-upper-");
    mkdirSync(`${upper}/dir`);
    lsetxattr(`${upper}/dir`, "user.overlay.opaque", Buffer.from("y"));
    writeFileSync(`${upper}/dir/kept`, "k");
    mknod(`${upper}/deleted`, S_IFCHR, 0n);
    writeFileSync(`${upper}/xwhiteout`, "");
    lsetxattr(`${upper}/xwhiteout`, "user.overlay.whiteout", Buffer.from(""));
    mkdirSync(`${upper}/marked-x`);
    lsetxattr(`${upper}/marked-x`, "user.overlay.opaque", Buffer.from("x"));
    const headers = await entries(await collect(writeLayerTar(overlayChanges(upper), { signal })));
    expect(headers.map((h) => h.name)).toEqual([".wh.deleted", "dir/", "dir/.wh..wh..opq", "dir/kept", "marked-x/", ".wh.xwhiteout"]);
    expect(headers.find((h) => h.name === "dir/")?.xattrs.size).toBe(0);
  });

  test("a file made a symlink after the walk saw it is refused, not followed out of the snapshot", async () => {
    const upper = tempDir("kitbuild-upper-");
    const outside = `${tempDir("kitbuild-outside-")}/secret`;
    writeFileSync(outside, "secret");
    mkdirSync(`${upper}/dir`);
    writeFileSync(`${upper}/dir/f`, "inside");
    function* swapped() {
      for (const change of overlayChanges(upper)) {
        if (change.kind === "entry" && change.name === "dir/f") {
          rmSync(change.host);
          symlinkSync(outside, change.host);
        }
        yield change;
      }
    }
    const err = await collect(writeLayerTar(swapped(), { signal })).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe("ELOOP");
  });
});
