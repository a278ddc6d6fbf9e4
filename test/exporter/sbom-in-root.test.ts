// The SBOM generator reads a root filesystem only inside it: symlinks in the image (absolute or
// climbing with "..") resolve against the image's root, never the host's, the walk does not
// enter symlinked directories, and it is bounded.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { scanRootfs, type SpdxDocument } from "../../src/exporter/sbom/scan.ts";
import { walkRoot } from "../../src/exporter/sbom/tree-walk.ts";
import { goBuildInfoBlock, syntheticGoElf, writeTree } from "../fixtures/sbom-rootfs.ts";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir } from "../harness.ts";

const signal = new AbortController().signal;
const scan = (root: string) => scanRootfs(root, { name: "in-root", sourceDateEpoch: 0, signal });
const names = (doc: SpdxDocument) => doc.packages.slice(1).map((p) => `${p.name} ${p.versionInfo}`);

/** A dpkg stanza written into the image's /etc/passwd, so reading that file shows as a package. */
const STANZA_IN_PASSWD = "Package: read-inside-root\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\n";

describe("reading in-root", () => {
  test("/var/lib/dpkg/status as an absolute symlink to /etc/passwd reads the image's /etc/passwd", async () => {
    const root = tempDir("kitbuild-sbom-");
    writeTree(root, { "/etc/passwd": STANZA_IN_PASSWD });
    mkdirSync(`${root}/var/lib/dpkg`, { recursive: true });
    symlinkSync("/etc/passwd", `${root}/var/lib/dpkg/status`);
    expect(names(await scan(root))).toEqual(["read-inside-root 1.0"]);
  });

  test("a relative symlink climbing above the root stops at the root", async () => {
    const root = tempDir("kitbuild-sbom-");
    writeTree(root, { "/etc/passwd": STANZA_IN_PASSWD });
    mkdirSync(`${root}/var/lib/dpkg`, { recursive: true });
    symlinkSync("../../../../../../../../etc/passwd", `${root}/var/lib/dpkg/status`);
    expect(names(await scan(root))).toEqual(["read-inside-root 1.0"]);
  });

  test("a symlinked parent directory resolves in-root; a symlink to a missing file or a loop reads as nothing", async () => {
    const root = tempDir("kitbuild-sbom-");
    writeTree(root, { "/opt/dpkg/status": STANZA_IN_PASSWD, "/etc/apk-installed": "P:inside\nV:2\n" });
    mkdirSync(`${root}/var/lib`, { recursive: true });
    symlinkSync("/opt/dpkg", `${root}/var/lib/dpkg`);
    mkdirSync(`${root}/lib/apk/db`, { recursive: true });
    symlinkSync("/lib/apk/db/installed", `${root}/lib/apk/db/installed`);
    symlinkSync("/nonexistent/hosts", `${root}/etc/os-release`);
    expect(names(await scan(root))).toEqual(["read-inside-root 1.0"]);
  });

  test("the walk does not follow a symlinked directory out of the root", async () => {
    const root = tempDir("kitbuild-sbom-");
    const outside = tempDir("kitbuild-sbom-outside-");
    // Packages outside the root, where a followed symlink would find them.
    writeTree(outside, {
      "/node_modules/escaped/package.json": JSON.stringify({ name: "escaped", version: "6.6.6" }),
      "/site-packages/escaped-6.6.6.dist-info/METADATA": "Name: escaped\nVersion: 6.6.6\n",
      "/bin/escaped": [syntheticGoElf(goBuildInfoBlock("go1.0.0", "path\tescaped\n")), 0o755],
    });
    writeTree(root, { "/app/node_modules/kept/package.json": JSON.stringify({ name: "kept", version: "1.0.0" }) });
    symlinkSync(outside, `${root}/outside`);
    symlinkSync(`${outside}/node_modules/escaped`, `${root}/app/node_modules/escaped`);
    mkdirSync(`${root}/usr/lib/python3/dist-packages`, { recursive: true });
    symlinkSync(`${outside}/site-packages/escaped-6.6.6.dist-info`, `${root}/usr/lib/python3/dist-packages/escaped-6.6.6.dist-info`);
    mkdirSync(`${root}/usr/bin`, { recursive: true });
    symlinkSync(`${outside}/bin/escaped`, `${root}/usr/bin/escaped`);
    const doc = await scan(root);
    expect(names(doc)).toEqual(["kept 1.0.0"]);
    expect(JSON.stringify(doc)).not.toContain("escaped");
  });

  test("a FIFO where a database belongs reads as nothing, without hanging", async () => {
    const root = tempDir("kitbuild-sbom-");
    mkdirSync(`${root}/var/lib/dpkg`, { recursive: true });
    expect(spawnSync("mkfifo", [`${root}/var/lib/dpkg/status`]).status).toBe(0);
    expect(names(await scan(root))).toEqual([]);
  }, 30_000);

  test.skipIf(skipBecause(!IS_ROOT, `device node in an image: mknod ${NEEDS_ROOT}`))("a device node where a database belongs reads as nothing", async () => {
    const root = tempDir("kitbuild-sbom-");
    mkdirSync(`${root}/lib/apk/db`, { recursive: true });
    // /dev/zero's numbers: were it read, it would never end.
    expect(spawnSync("mknod", [`${root}/lib/apk/db/installed`, "c", "1", "5"]).status).toBe(0);
    expect(names(await scan(root))).toEqual([]);
  }, 30_000);

  const hostHasDpkg = existsSync("/var/lib/dpkg/status") && readFileSync("/var/lib/dpkg/status", "utf8").includes("Package: ");
  test.skipIf(skipBecause(!hostHasDpkg, "host dpkg database: this host has none to be misread"))("the host's own dpkg database is never read through an image's symlink of the same path", async () => {
    const root = tempDir("kitbuild-sbom-");
    mkdirSync(`${root}/var/lib/dpkg`, { recursive: true });
    // In the image this is a loop; on the host, the same path is the host's database.
    symlinkSync("/var/lib/dpkg/status", `${root}/var/lib/dpkg/status`);
    expect(names(await scan(root))).toEqual([]);
  });
});

describe("the bounded walk", () => {
  test("stops after its entry limit, breadth-first in name order, and says so", async () => {
    const root = tempDir("kitbuild-sbom-");
    const files: Record<string, string> = { "/a/node_modules/first/package.json": '{"name":"first","version":"1.0.0"}' };
    for (let i = 0; i < 30; i++) files[`/b/file-${String(i).padStart(2, "0")}`] = "x";
    files["/c/node_modules/late/package.json"] = '{"name":"late","version":"1.0.0"}';
    writeTree(root, files);
    const all = await walkRoot(root, signal);
    expect(all.truncated).toBe(false);
    expect(all.npmPackages).toEqual(["/a/node_modules/first/package.json", "/c/node_modules/late/package.json"]);
    // Levels 1 to 3 (a, b, c; node_modules, 30 files, node_modules; first, late) are 37 entries;
    // on level 4, first/package.json is the 38th and late/package.json the 39th.
    const cut = await walkRoot(root, signal, 38);
    expect(cut.truncated).toBe(true);
    expect(cut.npmPackages).toEqual(["/a/node_modules/first/package.json"]);
  });

  test("/proc, /sys and /dev of the image are not walked", async () => {
    const root = tempDir("kitbuild-sbom-");
    writeTree(root, {
      "/proc/node_modules/x/package.json": '{"name":"x","version":"1"}',
      "/sys/node_modules/y/package.json": '{"name":"y","version":"1"}',
      "/dev/node_modules/z/package.json": '{"name":"z","version":"1"}',
      "/opt/proc/node_modules/kept/package.json": '{"name":"kept","version":"1"}',
    });
    expect((await walkRoot(root, signal)).npmPackages).toEqual(["/opt/proc/node_modules/kept/package.json"]);
  });
});
