// The SBOM generator over fixture root filesystems written here: each package database it reads
// (dpkg, apk, rpm, npm, Python, Go), the SPDX 2.3 document's shape, reproducibility, and reading
// in-root only. Go binaries and rpm databases are synthetic (made by test/fixtures/sbom-rootfs.ts
// from the formats' specifications; neither go nor rpm is installed on CI); the real Go binaries on
// the machine (runc, skopeo) are read too when present.
import { describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readdirSync, statSync, symlinkSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { scanRootfs, type SpdxDocument } from "../../src/exporter/sbom/scan.ts";
import { goBuildInfoBlock, rpmHeaderBlob, syntheticGoElf, syntheticLegacyGoElf, writeRpmSqlite, writeTree } from "../fixtures/sbom-rootfs.ts";
import { skipBecause, tempDir } from "../harness.ts";

const signal = new AbortController().signal;
const scan = (root: string, sourceDateEpoch: number | undefined = 1_700_000_000) => scanRootfs(root, { name: "example.test/app:1", sourceDateEpoch, signal });

/** name@version of every package found, with its purl, sorted. */
function found(doc: SpdxDocument): Array<{ name: string; version: string | undefined; purl: string | undefined; license: string }> {
  return doc.packages
    .filter((p) => p.SPDXID !== "SPDXRef-DocumentRoot")
    .map((p) => ({ name: p.name, version: p.versionInfo, purl: p.externalRefs?.[0]?.referenceLocator, license: p.licenseDeclared }));
}
const purls = (doc: SpdxDocument) => found(doc).map((p) => p.purl);

const DPKG_STATUS = [
  "Package: libc6",
  "Status: install ok installed",
  "Priority: optional",
  "Architecture: amd64",
  "Multi-Arch: same",
  "Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>",
  "Source: glibc (2.36-9)",
  "Version: 2.36-9+deb12u4",
  "Description: GNU C Library: Shared libraries",
  " Contains the standard libraries.",
  " .",
  " More text.",
  "",
  "Package: removed-tool",
  "Status: deinstall ok config-files",
  "Architecture: amd64",
  "Version: 1.0-1",
  "",
  "Package: login",
  "Status: install ok installed",
  "Architecture: amd64",
  "Source: shadow",
  "Version: 1:4.13+dfsg1-1",
  "Maintainer: Shadow package maintainers <pkg-shadow-devel@lists.alioth.debian.org>",
  "",
].join("\n");

describe("package databases", () => {
  test("dpkg status: installed packages only, with arch, source, supplier and the distro from os-release", async () => {
    const root = tempDir("kitbuild-sbom-");
    writeTree(root, {
      "/var/lib/dpkg/status": DPKG_STATUS,
      "/usr/lib/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
    });
    mkdirSync(`${root}/etc`);
    symlinkSync("../usr/lib/os-release", `${root}/etc/os-release`);
    const doc = await scan(root);
    expect(found(doc).map((p) => `${p.name} ${p.version}`)).toEqual(["libc6 2.36-9+deb12u4", "login 1:4.13+dfsg1-1"]);
    expect(purls(doc)).toEqual([
      "pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12&upstream=glibc",
      "pkg:deb/debian/login@1:4.13+dfsg1-1?arch=amd64&distro=debian-12&upstream=shadow",
    ]);
    const libc = doc.packages.find((p) => p.name === "libc6");
    expect(libc?.licenseDeclared).toBe("NOASSERTION");
    expect(libc?.supplier).toBe("Organization: GNU Libc Maintainers (debian-glibc@lists.debian.org)");
    expect(libc?.sourceInfo).toBe("acquired package info from installed dpkg status file: /var/lib/dpkg/status");
  });

  test("dpkg licenses from machine-readable copyright files: Debian names as SPDX ids, the rest as LicenseRefs; prose files give none", async () => {
    const root = tempDir("kitbuild-sbom-");
    writeTree(root, {
      "/var/lib/dpkg/status": DPKG_STATUS,
      "/usr/share/doc/login/copyright": [
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
        "Upstream-Name: shadow",
        "",
        "Files: *",
        "Copyright: 1989 - 1994, Julianne Frances Haugh",
        "License: BSD-3-clause",
        "",
        "Files: src/login_nopam.c",
        "License: GPL-2+ or Artistic",
        "",
        "Files: debian/*",
        "License: BSD-3-Clause",
        "",
        "Files: lib/extra.c",
        "License: public-domain",
        "",
        "License: BSD-3-clause",
        " Redistribution and use in source and binary forms...",
        "",
      ].join("\n"),
      "/usr/share/doc/libc6/copyright": "This is the Debian prepackaged version of the GNU C Library.\nLicense: not machine-readable, so not read\n",
    });
    const doc = await scan(root);
    const login = doc.packages.find((p) => p.name === "login");
    expect(login?.licenseDeclared).toMatch(/^\(GPL-2\.0-or-later OR Artistic-1\.0-Perl\) AND BSD-3-Clause AND LicenseRef-public-domain-[0-9a-f]{8}$/);
    expect(doc.hasExtractedLicensingInfos?.map((l) => l.extractedText)).toEqual(["public-domain"]);
    expect(doc.packages.find((p) => p.name === "libc6")?.licenseDeclared).toBe("NOASSERTION");
  });

  test("distroless status.d: one file per package, no Status line, md5sums skipped", async () => {
    const root = tempDir("kitbuild-sbom-");
    writeTree(root, {
      "/var/lib/dpkg/status.d/base-files": "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n",
      "/var/lib/dpkg/status.d/base-files.md5sums": "d41d8cd98f00b204e9800998ecf8427e  etc/debian_version\n",
      "/var/lib/dpkg/status.d/tzdata": "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n",
    });
    const doc = await scan(root);
    expect(found(doc).map((p) => p.purl)).toEqual(["pkg:deb/debian/base-files@12.4+deb12u5?arch=amd64", "pkg:deb/debian/tzdata@2024a-0+deb12u1?arch=all"]);
    expect(doc.packages.find((p) => p.name === "tzdata")?.sourceInfo).toContain("/var/lib/dpkg/status.d/tzdata");
  });

  test("apk installed: name, version, arch, license, origin", async () => {
    const root = tempDir("kitbuild-sbom-");
    writeTree(root, {
      "/etc/os-release": "ID=alpine\nVERSION_ID=3.19.1\n",
      "/lib/apk/db/installed": [
        "C:Q1abc=",
        "P:musl",
        "V:1.2.4_git20230717-r4",
        "A:x86_64",
        "L:MIT",
        "o:musl",
        "m:Timo Teräs <timo.teras@iki.fi>",
        "F:lib",
        "R:ld-musl-x86_64.so.1",
        "",
        "P:ssl_client",
        "V:1.36.1-r15",
        "A:x86_64",
        "L:GPL-2.0-only MIT",
        "o:busybox",
        "",
      ].join("\n"),
    });
    const doc = await scan(root);
    expect(found(doc)).toEqual([
      { name: "musl", version: "1.2.4_git20230717-r4", purl: "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19.1", license: "MIT" },
      { name: "ssl_client", version: "1.36.1-r15", purl: "pkg:apk/alpine/ssl_client@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1&upstream=busybox", license: "GPL-2.0-only AND MIT" },
    ]);
    expect(doc.packages.find((p) => p.name === "musl")?.supplier).toBe("Person: Timo Teräs (timo.teras@iki.fi)");
  });

  test("rpmdb.sqlite: header blobs with epoch and release; gpg-pubkey and broken blobs skipped", async () => {
    const root = tempDir("kitbuild-sbom-");
    writeTree(root, { "/etc/os-release": 'ID="fedora"\nVERSION_ID=40\n' });
    writeRpmSqlite(`${root}/usr/lib/sysimage/rpm/rpmdb.sqlite`, [
      rpmHeaderBlob([
        { tag: 1000, string: "bash" },
        { tag: 1001, string: "5.2.26" },
        { tag: 1002, string: "3.fc40" },
        { tag: 1014, string: "GPL-3.0-or-later" },
        { tag: 1011, string: "Fedora Project" },
        { tag: 1022, string: "x86_64" },
        { tag: 1044, string: "bash-5.2.26-3.fc40.src.rpm" },
      ]),
      rpmHeaderBlob([
        { tag: 1000, string: "shadow-utils" },
        { tag: 1003, int32: 2 },
        { tag: 1001, string: "4.15.1" },
        { tag: 1002, string: "3.fc40" },
        { tag: 1014, string: "BSD-3-Clause AND GPL-2.0-or-later" },
        { tag: 1022, string: "x86_64" },
      ]),
      rpmHeaderBlob([{ tag: 1000, string: "gpg-pubkey" }, { tag: 1001, string: "a15b79cc" }]),
      Uint8Array.from([0, 0, 0, 9, 0xff, 0xff, 0xff, 0xff]),
    ]);
    // /var/lib/rpm pointing at the same database is read once.
    mkdirSync(`${root}/var/lib`, { recursive: true });
    symlinkSync("../../usr/lib/sysimage/rpm", `${root}/var/lib/rpm`);
    const doc = await scan(root);
    expect(found(doc)).toEqual([
      { name: "bash", version: "5.2.26-3.fc40", purl: "pkg:rpm/fedora/bash@5.2.26-3.fc40?arch=x86_64&distro=fedora-40&upstream=bash-5.2.26-3.fc40.src.rpm", license: "GPL-3.0-or-later" },
      { name: "shadow-utils", version: "2:4.15.1-3.fc40", purl: "pkg:rpm/fedora/shadow-utils@4.15.1-3.fc40?arch=x86_64&distro=fedora-40&epoch=2", license: "BSD-3-Clause AND GPL-2.0-or-later" },
    ]);
    expect(doc.packages.find((p) => p.name === "bash")?.supplier).toBe("Organization: Fedora Project");
    expect(doc.creationInfo.comment).toBeUndefined();
  });

  test("rpmdb.sqlite whose rows are still in its -wal file (rpm not closed cleanly): read through a private copy", async () => {
    const root = tempDir("kitbuild-sbom-");
    const db = `${root}/var/lib/rpm/rpmdb.sqlite`;
    writeRpmSqlite(db, [rpmHeaderBlob([{ tag: 1000, string: "only-in-wal" }, { tag: 1001, string: "1" }, { tag: 1002, string: "2" }])], true);
    expect(statSync(`${db}-wal`).size).toBeGreaterThan(0);
    const before = readdirSync(`${root}/var/lib/rpm`).sort();
    const doc = await scan(root);
    expect(found(doc).map((p) => `${p.name} ${p.version}`)).toEqual(["only-in-wal 1-2"]);
    // Nothing was written beside the image's database.
    expect(readdirSync(`${root}/var/lib/rpm`).sort()).toEqual(before);
  });

  test("a BerkeleyDB rpm database is named as not read, and nothing fails", async () => {
    const root = tempDir("kitbuild-sbom-");
    // A BerkeleyDB hash file starts with its metadata page; the scanner never opens it.
    writeTree(root, { "/var/lib/rpm/Packages": new Uint8Array(4096).fill(7), "/var/lib/dpkg/status": DPKG_STATUS });
    const doc = await scan(root);
    expect(found(doc).map((p) => p.name)).toEqual(["libc6", "login"]);
    expect(doc.creationInfo.comment).toBe("/var/lib/rpm/Packages not read: a BerkeleyDB rpm database, which kitbuild cannot read");
  });

  test("a corrupt rpmdb.sqlite is named as not read", async () => {
    const root = tempDir("kitbuild-sbom-");
    writeTree(root, { "/var/lib/rpm/rpmdb.sqlite": "not a database at all, but long enough to have a header" });
    const doc = await scan(root);
    expect(found(doc)).toEqual([]);
    expect(doc.creationInfo.comment).toContain("/var/lib/rpm/rpmdb.sqlite not read");
  });

  test("npm: lock files v1 and v3, installed package.json (scoped too), links and dev dependencies of lock files skipped", async () => {
    const root = tempDir("kitbuild-sbom-");
    writeTree(root, {
      "/app/package-lock.json": JSON.stringify({
        name: "app",
        lockfileVersion: 3,
        packages: {
          "": { name: "app", version: "1.0.0" },
          "node_modules/left-pad": { version: "1.3.0", license: "WTFPL" },
          "node_modules/@types/node": { version: "20.11.5", license: "MIT" },
          "node_modules/a/node_modules/b": { version: "2.0.0", license: "ISC" },
          "node_modules/local-lib": { resolved: "packages/local-lib", link: true },
          "node_modules/jest": { version: "29.7.0", dev: true },
        },
      }),
      "/legacy/package-lock.json": JSON.stringify({
        lockfileVersion: 1,
        dependencies: { express: { version: "4.18.2", dependencies: { "debug": { version: "2.6.9" } } }, mocha: { version: "10.0.0", dev: true } },
      }),
      "/app/node_modules/left-pad/package.json": JSON.stringify({ name: "left-pad", version: "1.3.0", license: "WTFPL", author: "azer" }),
      "/app/node_modules/@types/node/package.json": JSON.stringify({ name: "@types/node", version: "20.11.5", license: { type: "MIT" } }),
      // Not an installed package: a package.json deeper inside one.
      "/app/node_modules/left-pad/test/package.json": JSON.stringify({ name: "fixture", version: "0.0.0" }),
    });
    const doc = await scan(root);
    const npm = found(doc).map((p) => `${p.purl} ${p.license}`);
    expect(npm).toEqual([
      "pkg:npm/%40types/node@20.11.5 MIT",
      "pkg:npm/%40types/node@20.11.5 MIT",
      "pkg:npm/b@2.0.0 ISC",
      "pkg:npm/debug@2.6.9 NOASSERTION",
      "pkg:npm/express@4.18.2 NOASSERTION",
      "pkg:npm/left-pad@1.3.0 WTFPL",
      "pkg:npm/left-pad@1.3.0 WTFPL",
    ]);
    const sources = doc.packages.filter((p) => p.name === "left-pad").map((p) => p.sourceInfo);
    expect(sources).toEqual([
      "acquired package info from installed node module package.json: /app/node_modules/left-pad/package.json",
      "acquired package info from npm package-lock.json: /app/package-lock.json",
    ]);
  });

  test("python: dist-info METADATA and egg-info under site-packages, names normalized in the purl, free-text licenses as LicenseRefs", async () => {
    const root = tempDir("kitbuild-sbom-");
    writeTree(root, {
      "/usr/lib/python3/dist-packages/Jinja2-3.1.2.dist-info/METADATA": "Metadata-Version: 2.1\nName: Jinja2\nVersion: 3.1.2\nLicense: BSD-3-Clause\nAuthor: Armin\n\nJinja2 description\nName: not-this\n",
      "/usr/local/lib/python3.12/site-packages/typing_extensions-4.9.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: typing_extensions\nVersion: 4.9.0\nLicense: Python Software Foundation License\n",
      "/usr/local/lib/python3.12/site-packages/new-0.1.dist-info/METADATA": "Metadata-Version: 2.4\nName: new\nVersion: 0.1\nLicense-Expression: MIT OR Apache-2.0\n",
      // setuptools' egg-info, as a directory and as a single file (Debian's python3-* packages).
      "/usr/lib/python3/dist-packages/PyJWT-2.6.0.egg-info/PKG-INFO": "Metadata-Version: 2.1\nName: PyJWT\nVersion: 2.6.0\nLicense: MIT\n\nlong text\n",
      "/usr/lib/python3/dist-packages/six-1.16.0.egg-info": "Metadata-Version: 1.2\nName: six\nVersion: 1.16.0\nLicense: MIT\n",
      // Outside site-packages/dist-packages: a source tree, not an installed package.
      "/src/thing-1.0.dist-info/METADATA": "Name: thing\nVersion: 1.0\n",
    });
    const doc = await scan(root);
    expect(found(doc)).toEqual([
      { name: "Jinja2", version: "3.1.2", purl: "pkg:pypi/jinja2@3.1.2", license: "BSD-3-Clause" },
      { name: "new", version: "0.1", purl: "pkg:pypi/new@0.1", license: "MIT OR Apache-2.0" },
      { name: "PyJWT", version: "2.6.0", purl: "pkg:pypi/pyjwt@2.6.0", license: "MIT" },
      { name: "six", version: "1.16.0", purl: "pkg:pypi/six@1.16.0", license: "MIT" },
      { name: "typing_extensions", version: "4.9.0", purl: "pkg:pypi/typing-extensions@4.9.0", license: expect.stringMatching(/^LicenseRef-Python-Software-Foundation-License-[0-9a-f]{8}$/) as unknown as string },
    ]);
    expect(doc.packages.find((p) => p.name === "six")?.sourceInfo).toBe("acquired package info from python egg-info PKG-INFO: /usr/lib/python3/dist-packages/six-1.16.0.egg-info");
    const ref = found(doc).find((p) => p.name === "typing_extensions")?.license;
    expect(doc.hasExtractedLicensingInfos).toEqual([{ licenseId: ref as string, extractedText: "Python Software Foundation License" }]);
  });

  test("go: build info in ELF binaries (section table or a search), deps, replacements and the stdlib; other files ignored", async () => {
    const root = tempDir("kitbuild-sbom-");
    const modInfo = [
      "path\texample.com/hello/cmd/hello",
      "mod\texample.com/hello\tv1.4.0\th1:abc=",
      "dep\tgolang.org/x/sys\tv0.15.0\th1:def=",
      "dep\tgithub.com/old/thing\tv1.0.0\th1:ghi=",
      "=>\tgithub.com/new/thing\tv1.1.0\th1:jkl=",
      "build\t-compiler=gc",
      "",
    ].join("\n");
    const block = goBuildInfoBlock("go1.22.1", modInfo);
    writeTree(root, {
      "/usr/local/bin/hello": [syntheticGoElf(block), 0o755],
      "/app/server": [syntheticGoElf(goBuildInfoBlock("go1.21.6 X:boringcrypto", "path\texample.com/srv\nmod\texample.com/srv\t(devel)\t\n"), false), 0o755],
      // The same block at an aligned offset but not in an ELF file (a script), and an ELF file
      // that is not executable: neither is read.
      "/usr/bin/not-elf": [Uint8Array.from([...new TextEncoder().encode("#!/bin/sh\n# pad\n"), ...block]), 0o755],
      "/usr/lib/hello.so.data": [syntheticGoElf(block), 0o644],
    });
    const doc = await scan(root);
    expect(found(doc).map((p) => `${p.name} ${p.version} ${p.purl}`)).toEqual([
      "example.com/hello v1.4.0 pkg:golang/example.com/hello@v1.4.0",
      "example.com/srv (devel) pkg:golang/example.com/srv",
      "github.com/new/thing v1.1.0 pkg:golang/github.com/new/thing@v1.1.0",
      "golang.org/x/sys v0.15.0 pkg:golang/golang.org/x/sys@v0.15.0",
      "stdlib go1.21.6 pkg:golang/stdlib@1.21.6",
      "stdlib go1.22.1 pkg:golang/stdlib@1.22.1",
    ]);
    expect(doc.packages.find((p) => p.name === "golang.org/x/sys")?.sourceInfo).toBe("acquired package info from go module build info in binary: /usr/local/bin/hello");
  });

  test("go: the pre-1.18 pointer format, with module info and without (a GOPATH build)", async () => {
    const root = tempDir("kitbuild-sbom-");
    writeTree(root, {
      "/usr/bin/old": [syntheticLegacyGoElf("go1.16.15", "path\texample.com/old\nmod\texample.com/old\tv0.3.0\th1:x=\ndep\tgithub.com/pkg/errors\tv0.9.1\th1:y=\n"), 0o755],
      "/usr/bin/gopath": [syntheticLegacyGoElf("go1.15.2", ""), 0o755],
    });
    const doc = await scan(root);
    expect(found(doc).map((p) => `${p.name} ${p.version} ${p.purl}`)).toEqual([
      "example.com/old v0.3.0 pkg:golang/example.com/old@v0.3.0",
      "github.com/pkg/errors v0.9.1 pkg:golang/github.com/pkg/errors@v0.9.1",
      "stdlib go1.15.2 pkg:golang/stdlib@1.15.2",
      "stdlib go1.16.15 pkg:golang/stdlib@1.16.15",
    ]);
  });

  const realGo = ["/usr/sbin/runc", "/usr/bin/runc"].find((p) => Bun.which(p) !== null);
  test.skipIf(skipBecause(realGo === undefined, "real Go binary: runc is not installed here"))("go: a real Go binary (runc) reports the Go version runc --version prints", async () => {
    const root = tempDir("kitbuild-sbom-");
    mkdirSync(`${root}/usr/bin`, { recursive: true });
    copyFileSync(realGo as string, `${root}/usr/bin/runc`);
    const goLine = spawnSync(realGo as string, ["--version"], { encoding: "utf8" }).stdout.split("\n").find((l) => l.startsWith("go: "));
    const doc = await scan(root);
    expect(found(doc).find((p) => p.name === "stdlib")?.version).toBe(goLine?.slice("go: ".length));
  });
});

describe("the document", () => {
  test("SPDX 2.3 shape: root package described, every package contained, ids unique and well-formed", async () => {
    const root = tempDir("kitbuild-sbom-");
    writeTree(root, { "/var/lib/dpkg/status": DPKG_STATUS, "/app/node_modules/x/package.json": '{"name":"x","version":"1.0.0","license":"GPL-2.0 with odd text"}' });
    const doc = await scan(root, 1_700_000_000);
    expect(doc.spdxVersion).toBe("SPDX-2.3");
    expect(doc.dataLicense).toBe("CC0-1.0");
    expect(doc.SPDXID).toBe("SPDXRef-DOCUMENT");
    expect(doc.name).toBe("example.test/app:1");
    expect(doc.creationInfo.created).toBe(new Date(1_700_000_000 * 1000).toISOString().replace(/\.\d+Z$/, "Z"));
    expect(doc.creationInfo.creators).toEqual([expect.stringMatching(/^Tool: kitbuild-\d+\.\d+\.\d+/) as unknown as string]);
    expect(doc.documentNamespace).toMatch(/^https:\/\/spdx\.org\/spdxdocs\/kitbuild\/example\.test-app-1-[0-9a-f]{32}$/);
    const ids = doc.packages.map((p) => p.SPDXID);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^SPDXRef-[A-Za-z0-9.\-]+$/);
    const root0 = doc.packages[0];
    expect(doc.relationships[0]).toEqual({ spdxElementId: "SPDXRef-DOCUMENT", relatedSpdxElement: root0?.SPDXID as string, relationshipType: "DESCRIBES" });
    expect(doc.relationships.slice(1).map((r) => r.relatedSpdxElement)).toEqual(ids.slice(1));
    for (const p of doc.packages) {
      expect(p.downloadLocation).toBe("NOASSERTION");
      expect(p.filesAnalyzed).toBe(false);
    }
    // Every LicenseRef used is defined.
    const used = doc.packages.flatMap((p) => p.licenseDeclared.match(/LicenseRef-[A-Za-z0-9.\-]+/g) ?? []);
    expect(used.length).toBeGreaterThan(0);
    expect(used.every((u) => doc.hasExtractedLicensingInfos?.some((l) => l.licenseId === u))).toBe(true);
  });

  test("reproducible: the same files give the same bytes; another package changes the namespace", async () => {
    const a = tempDir("kitbuild-sbom-");
    const b = tempDir("kitbuild-sbom-");
    for (const root of [a, b]) writeTree(root, { "/var/lib/dpkg/status": DPKG_STATUS, "/lib/apk/db/installed": "P:zlib\nV:1.3-r2\nA:x86_64\n" });
    const first = JSON.stringify(await scan(a, 0));
    expect(JSON.stringify(await scan(b, 0))).toBe(first);
    writeTree(b, { "/lib/apk/db/installed": "P:zlib\nV:1.3-r3\nA:x86_64\n" });
    const changed = await scan(b, 0);
    expect(changed.documentNamespace).not.toBe((JSON.parse(first) as SpdxDocument).documentNamespace);
    const now = await scanRootfs(a, { name: "x", sourceDateEpoch: undefined, signal });
    expect(Math.abs(Date.parse(now.creationInfo.created) - Date.now())).toBeLessThan(24 * 3600 * 1000);
  });

  test("an aborted scan rejects with E_CANCELED", async () => {
    const root = tempDir("kitbuild-sbom-");
    writeTree(root, { "/var/lib/dpkg/status": DPKG_STATUS });
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    expect(scanRootfs(root, { name: "x", sourceDateEpoch: 0, signal: ac.signal })).rejects.toMatchObject({ code: "E_CANCELED" });
  });
});
