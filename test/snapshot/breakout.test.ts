// containerd's archive breakout cases (pkg/archive/tar_test.go, TestBreakouts), ported as kitbuild
// tests and run on both snapshotters: a base layer ("setup") and the hostile layer are applied as
// real layers, then the result is checked through a read-only mount. kitbuild refuses absolute entry
// names and ".." components outright, where containerd cleans them in-root; so each case is run as
// containerd wrote it (expected: refused, when it has such names) and with the leading "/" of its
// names removed (expected: containerd's own validator). Needs root (mounts).
import { describe, expect, test } from "bun:test";
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import type { Snapshotter } from "../../src/snapshot/snapshotter.ts";
import { resolveInRoot } from "../../src/fs/fs-safe.ts";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir } from "../harness.ts";
import { applyTo, freshSnapshotter, IMPLS, layerFile, text, type TarEntry as Entry } from "./impls.ts";

const skip = skipBecause(!IS_ROOT, `breakout suite: ${NEEDS_ROOT}`);
const file = (name: string, body: string | Uint8Array, mode = 0o644): Entry => ({ name, type: "file", mode, body: typeof body === "string" ? text(body) : body });
const dir = (name: string, mode = 0o755): Entry => ({ name, type: "directory", mode });
const symlink = (target: string, name: string): Entry => ({ name, type: "symlink", linkname: target, mode: 0o777 });
const hardlink = (target: string, name: string): Entry => ({ name, type: "link", linkname: target, mode: 0o777 });

type Check = (root: string) => void;
type Case = { name: string; setup?: Entry[]; layer: Entry[]; asWritten: "refused" | Check; relative?: "refused" | Check };

const tname = `kitbuild-${process.pid}`;
const outside = tempDir("kitbuild-breakout-outside-");
const perm400 = `${outside}/perm400`;
const existsOutside = `${outside}/also-exists-outside-root`;

const unbroken: Check = (root) => {
  expect(readFileSync(`${root}/etc/unbroken`, "utf8")).toBe("unbroken");
  expect(existsSync("/etc/unbroken")).toBe(false);
};
const fileValue = (f: string, content: string): Check => (root) => expect(readFileSync(`${root}/${f}`, "utf8")).toBe(content);
const notExists = (f: string): Check => (root) => expect(existsSync(`${root}/${f}`)).toBe(false);
const inode = (root: string, f: string) => {
  const st = statSync(resolveInRoot(root, f, true));
  return `${st.dev}:${st.ino}`;
};
const sameFile = (a: string, b: string): Check => (root) => expect(inode(root, a)).toBe(inode(root, b));
const notSameFile = (a: string, b: string): Check => (root) => expect(inode(root, a)).not.toBe(inode(root, b));
const sameSymlink = (a: string, b: string): Check => (root) => {
  expect(lstatSync(`${root}/${a}`).isSymbolicLink()).toBe(true);
  expect(readlinkSync(`${root}/${a}`)).toBe(readlinkSync(`${root}/${b}`));
};
const all = (...checks: Check[]): Check => (root) => {
  for (const c of checks) c(root);
};
const passwdSetup = [dir("etc"), file("etc/passwd", "inside")];

const CASES: Case[] = [
  { name: "SymlinkAbsolute", layer: [dir("etc"), symlink("/etc", "localetc"), file("/localetc/unbroken", "unbroken")], asWritten: "refused", relative: unbroken },
  { name: "SymlinkUpAndOut", layer: [dir("etc"), dir("dummy"), symlink("/dummy/../etc", "localetc"), file("/localetc/unbroken", "unbroken")], asWritten: "refused", relative: unbroken },
  { name: "SymlinkMultipleAbsolute", layer: [dir("etc"), dir("dummy"), symlink("/etc", "/dummy/etc"), symlink("/dummy/etc", "localetc"), file("/dummy/etc/unbroken", "unbroken")], asWritten: "refused", relative: unbroken },
  { name: "SymlinkMultipleRelative", layer: [dir("etc"), dir("dummy"), symlink("/etc", "/dummy/etc"), symlink("./dummy/etc", "localetc"), file("/dummy/etc/unbroken", "unbroken")], asWritten: "refused", relative: unbroken },
  { name: "SymlinkEmptyFile", layer: [dir("etc"), file("etc/emptied", "notempty"), symlink("/etc", "localetc"), file("/localetc/emptied", "")], asWritten: "refused", relative: fileValue("etc/emptied", "") },
  { name: "HardlinkRelative", layer: [dir("etc", 0o770), file("/etc/passwd", "inside"), dir("breakouts"), symlink("../../etc", "breakouts/d1"), hardlink("/breakouts/d1/passwd", "breakouts/mypasswd")], asWritten: "refused", relative: sameFile("breakouts/mypasswd", "etc/passwd") },
  { name: "HardlinkDownAndOut", layer: [dir("etc", 0o770), file("/etc/passwd", "inside"), dir("breakouts"), dir("downandout"), symlink("../downandout/../../etc", "breakouts/d1"), hardlink("/breakouts/d1/passwd", "breakouts/mypasswd")], asWritten: "refused", relative: sameFile("breakouts/mypasswd", "etc/passwd") },
  { name: "HardlinkAbsolute", layer: [dir("etc", 0o770), file("/etc/passwd", "inside"), symlink("/etc", "localetc"), hardlink("/localetc/passwd", "localpasswd")], asWritten: "refused", relative: sameFile("localpasswd", "etc/passwd") },
  { name: "HardlinkRelativeLong", layer: [dir("etc", 0o770), file("/etc/passwd", "inside"), symlink("../../../../../../../etc", "localetc"), hardlink("/localetc/passwd", "localpasswd")], asWritten: "refused", relative: sameFile("localpasswd", "etc/passwd") },
  { name: "HardlinkRelativeUpAndOut", layer: [dir("etc", 0o770), file("/etc/passwd", "inside"), symlink("upandout/../../../etc", "localetc"), hardlink("/localetc/passwd", "localpasswd")], asWritten: "refused", relative: sameFile("localpasswd", "etc/passwd") },
  { name: "HardlinkDirectRelative", layer: [dir("etc", 0o770), file("/etc/passwd", "inside"), hardlink("../../../../../etc/passwd", "localpasswd")], asWritten: "refused", relative: "refused" },
  { name: "HardlinkDirectAbsolute", layer: [dir("etc", 0o770), file("/etc/passwd", "inside"), hardlink("/etc/passwd", "localpasswd")], asWritten: "refused", relative: sameFile("localpasswd", "etc/passwd") },
  { name: "SymlinkParentDirectory", layer: [dir("etc", 0o770), file("/etc/passwd", "inside"), symlink("/etc/", ".."), hardlink("/etc/passwd", "localpasswd")], asWritten: "refused", relative: "refused" },
  { name: "SymlinkEmptyFilename", layer: [dir("etc", 0o770), file("/etc/passwd", "inside"), symlink("/etc/", ""), hardlink("/etc/passwd", "localpasswd")], asWritten: "refused", relative: sameFile("localpasswd", "etc/passwd") },
  { name: "SymlinkParentRelative", layer: [dir("etc", 0o770), file("/etc/passwd", "inside"), symlink("/etc/", "localetc/sub/.."), hardlink("/etc/passwd", "/localetc/localpasswd")], asWritten: "refused", relative: "refused" },
  { name: "SymlinkSlashEnded", layer: [dir("etc", 0o770), file("/etc/passwd", "inside"), dir("localetc/", 0o770), hardlink("/etc/passwd", "/localetc/localpasswd")], asWritten: "refused", relative: sameFile("localetc/localpasswd", "etc/passwd") },
  { name: "SymlinkOverrideDirectory", setup: [...passwdSetup, dir("localetc")], layer: [symlink("/etc", "localetc"), hardlink("/etc/passwd", "/localetc/localpasswd")], asWritten: "refused", relative: sameFile("localetc/localpasswd", "etc/passwd") },
  { name: "SymlinkOverrideDirectoryRelative", setup: [...passwdSetup, dir("localetc")], layer: [symlink("../../etc", "localetc"), hardlink("/etc/passwd", "/localetc/localpasswd")], asWritten: "refused", relative: sameFile("localetc/localpasswd", "etc/passwd") },
  { name: "DirectoryOverrideSymlink", setup: [...passwdSetup, symlink("/etc", "localetc")], layer: [dir("/localetc/"), hardlink("/etc/passwd", "/localetc/localpasswd")], asWritten: "refused", relative: sameFile("localetc/localpasswd", "etc/passwd") },
  {
    name: "DirectoryOverrideSymlinkAndHardlink",
    setup: [...passwdSetup, symlink("etc", "localetc"), hardlink("etc/passwd", "localetc/localpasswd")],
    layer: [dir("/localetc/"), file("/localetc/localpasswd", "different")],
    asWritten: "refused",
    relative: all(notSameFile("localetc/localpasswd", "etc/passwd"), fileValue("etc/passwd", "inside")),
  },
  { name: "WhiteoutRootParent", setup: passwdSetup, layer: [file(".wh...", "")], asWritten: "refused" },
  { name: "WhiteoutParent", setup: passwdSetup, layer: [file("etc/.wh...", "")], asWritten: "refused" },
  { name: "WhiteoutRoot", setup: passwdSetup, layer: [file(".wh..", "")], asWritten: "refused" },
  { name: "WhiteoutCurrentDirectory", setup: passwdSetup, layer: [file("etc/.wh..", "")], asWritten: "refused" },
  { name: "WhiteoutSymlink", setup: [dir("etc"), file("etc/passwd", "all users"), symlink("/etc", "localetc")], layer: [file(".wh.localetc", "")], asWritten: all(fileValue("etc/passwd", "all users"), notExists("localetc")) },
  {
    name: "WhiteoutSymlinkPath",
    setup: [dir("etc"), file("etc/passwd", "all users"), file("etc/whitedout", "ahhhh whiteout"), symlink("/etc", "localetc")],
    layer: [file("localetc/.wh.whitedout", "")],
    asWritten: all(fileValue("etc/passwd", "all users"), notExists("etc/whitedout")),
  },
  {
    name: "WhiteoutDirectoryName",
    setup: [dir("etc"), file("etc/passwd", "all users"), file("etc/whitedout", "ahhhh whiteout"), symlink("/etc", "localetc")],
    layer: [file(".wh.etc/somefile", "non-empty")],
    asWritten: all(fileValue("etc/passwd", "all users"), fileValue(".wh.etc/somefile", "non-empty")),
  },
  { name: "WhiteoutDeadSymlinkParent", setup: [dir("etc"), file("etc/passwd", "all users"), symlink("/dne", "localetc")], layer: [file("localetc/.wh.etc", "")], asWritten: fileValue("etc/passwd", "all users") },
  // containerd cleans the name to ".wh.etc" and removes etc; kitbuild refuses any ".." component.
  { name: "WhiteoutRelativePath", setup: [dir("etc"), file("etc/passwd", "all users"), symlink("/dne", "localetc")], layer: [file("dne/../.wh.etc", "")], asWritten: "refused" },
  {
    name: "SymlinkOverridePath",
    layer: [
      dir("foo"), dir("foo/tmp"), file(`foo/tmp/breakout-${tname}`, new Uint8Array([0, 1, 2])), symlink("/", "foo"),
      file(`foo/tmp/breakout-${tname}`, new Uint8Array([3, 4, 5])), dir("foo"), dir("foo/tmp"), file(`foo/tmp/breakout-${tname}`, new Uint8Array([6, 7, 8])),
    ],
    asWritten: (root) => {
      expect(existsSync(`/tmp/breakout-${tname}`)).toBe(false);
      expect([...readFileSync(`${root}/foo/tmp/breakout-${tname}`)]).toEqual([6, 7, 8]);
    },
  },
  { name: "HardlinkSymlinkBeforeCreateTarget", layer: [dir("etc", 0o770), symlink("/etc/passwd", "localpasswd"), hardlink("localpasswd", "localpasswd-dup"), file("/etc/passwd", "after")], asWritten: "refused", relative: sameFile("localpasswd-dup", "etc/passwd") },
  {
    name: "HardlinkSymlinkRelative",
    layer: [dir("etc", 0o770), file("/etc/passwd", "inside"), symlink("../../../../../etc/passwd", "passwdlink"), hardlink("/passwdlink", "localpasswd")],
    asWritten: "refused",
    relative: all(sameSymlink("localpasswd", "passwdlink"), sameFile("localpasswd", "etc/passwd")),
  },
  {
    name: "HardlinkSymlinkAbsolute",
    layer: [dir("etc", 0o770), file("/etc/passwd", "inside"), symlink("/etc/passwd", "passwdlink"), hardlink("/passwdlink", "localpasswd")],
    asWritten: "refused",
    relative: all(sameSymlink("localpasswd", "passwdlink"), sameFile("localpasswd", "etc/passwd")),
  },
  {
    name: "HardlinkSymlinkChmod",
    layer: [symlink(perm400, existsOutside), hardlink(existsOutside, "sketchylink")],
    asWritten: "refused",
    relative: () => expect(lstatSync(perm400).mode & 0o777).toBe(0o400),
  },
];

/** The case with the leading "/" removed from entry names and hardlink targets. */
function relativeNames(entries: Entry[]): Entry[] {
  const strip = (s: string) => s.replace(/^\/+/, "");
  return entries.map((e) => ({ ...e, name: strip(e.name), ...(e.type === "link" ? { linkname: strip(e.linkname ?? "") } : {}) }));
}

async function applyLayer(s: Snapshotter, parent: number | null, work: string, entries: Entry[]): Promise<number> {
  return applyTo(s, parent, await layerFile(work, entries, "uncompressed"), "uncompressed");
}

async function runCase(s: Snapshotter, work: string, c: Case, layer: Entry[], expected: "refused" | Check): Promise<void> {
  const base = c.setup ? await applyLayer(s, null, work, c.setup) : null;
  const applied = applyLayer(s, base, work, layer);
  if (expected === "refused") {
    await expect(applied).rejects.toMatchObject({ code: expect.stringMatching(/^E_LAYER_|^E_ARCHIVE_/) });
    return;
  }
  const top = await applied;
  await using view = await s.mountReadonly(top);
  expected(view.path);
}

for (const impl of IMPLS) {
  describe.skipIf(skip)(`layer breakouts (containerd's cases) on ${impl.name}`, () => {
    const hostPasswd = readFileSync("/etc/passwd");
    writeFileSync(perm400, "...", { mode: 0o400 });
    writeFileSync(existsOutside, "...", { mode: 0o640 });
    for (const c of CASES) {
      test(c.name, async () => {
        const { root: work, s } = freshSnapshotter(impl);
        await runCase(s, work, c, c.layer, c.asWritten);
        if (c.relative !== undefined) await runCase(s, work, c, relativeNames(c.layer), c.relative);
        expect(readFileSync("/etc/passwd")).toEqual(hostPasswd);
        expect(lstatSync(perm400).mode & 0o777).toBe(0o400);
      });
    }
  });
}
