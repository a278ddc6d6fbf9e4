// In-root resolution: nothing a symlink says can lead outside the root.
import { describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync } from "node:fs";
import { inRootPath } from "../../src/fs/fs-safe.ts";
import { tempDir } from "../harness.ts";

describe("inRootPath", () => {
  test("absolute and relative symlinks are followed inside the root", () => {
    const root = tempDir();
    mkdirSync(`${root}/real/dir`, { recursive: true });
    symlinkSync("/real", `${root}/abs`);
    symlinkSync("../../../../real", `${root}/rel`);
    symlinkSync("/", `${root}/top`);
    symlinkSync("/host/etc", `${root}/etc`);
    expect(inRootPath(root, "/abs/dir/file")).toBe("/real/dir/file");
    expect(inRootPath(root, "/rel/dir")).toBe("/real/dir");
    expect(inRootPath(root, "/../../../x")).toBe("/x");
    // /etc -> /host/etc leads to <root>/host/etc, never to the host's /etc.
    expect(inRootPath(root, "/top/../../etc/passwd", false)).toBe("/host/etc/passwd");
    expect(inRootPath(root, "/etc", false)).toBe("/etc");
  });

  test("the final component is followed only when asked", () => {
    const root = tempDir();
    mkdirSync(`${root}/target`);
    symlinkSync("/target", `${root}/link`);
    expect(inRootPath(root, "/link", false)).toBe("/link");
    expect(inRootPath(root, "/link", true)).toBe("/target");
  });

  test("a symlink loop is an error, not a hang", () => {
    const root = tempDir();
    symlinkSync("/b", `${root}/a`);
    symlinkSync("/a", `${root}/b`);
    expect(() => inRootPath(root, "/a/x")).toThrow("too many levels of symbolic links");
  });
});
