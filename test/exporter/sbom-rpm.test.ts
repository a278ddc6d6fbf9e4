// The SBOM generator over an rpm database made by rpm itself: a package built with rpmbuild (no
// files, an epoch, an SPDX license expression, a vendor) recorded with `rpm -i --justdb` in a fixture
// root's /var/lib/rpm/rpmdb.sqlite; what the scanner reports is checked against `rpm -qa`.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { scanRootfs } from "../../src/exporter/sbom/scan.ts";
import { skipBecause, tempDir } from "../harness.ts";
import { writeTree } from "../fixtures/sbom-rootfs.ts";

const HAS_RPM = Bun.which("rpmbuild") !== null && Bun.which("rpm") !== null;

function run(cmd: string, args: string[]): string {
  const res = spawnSync(cmd, args, { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${res.stderr}`);
  return res.stdout;
}

/** Builds a file-less noarch rpm from `spec` lines; returns the .rpm's path. */
function buildRpm(spec: string[]): string {
  const top = tempDir("kitbuild-rpmbuild-");
  mkdirSync(`${top}/SPECS`);
  writeFileSync(`${top}/SPECS/fixture.spec`, `${[...spec, "BuildArch: noarch", "%description", "A package with no files.", "%files", ""].join("\n")}`);
  run("rpmbuild", ["--quiet", "--define", `_topdir ${top}`, "-bb", `${top}/SPECS/fixture.spec`]);
  const name = readdirSync(`${top}/RPMS/noarch`)[0] as string;
  return `${top}/RPMS/noarch/${name}`;
}

describe.skipIf(skipBecause(!HAS_RPM, "rpm database made by rpm: rpm and rpmbuild are not installed (apt-get install rpm; scripts/setup.sh does)"))("an rpm database written by rpm", () => {
  test("every package rpm -qa lists, with epoch, version, release, arch and license", async () => {
    const root = tempDir("kitbuild-sbom-rpm-");
    writeTree(root, { "/etc/os-release": "ID=fedora\nVERSION_ID=40\n" });
    const dbpath = `${root}/var/lib/rpm`;
    run("rpm", ["--dbpath", dbpath, "--initdb"]);
    const rpms = [
      buildRpm(["Name: kitbuild-fixture-one", "Version: 1.2.3", "Release: 4.fc40", "Epoch: 1", "Summary: one", "License: MIT AND (Apache-2.0 OR BSD-3-Clause)", "Vendor: Kitbuild Tests"]),
      buildRpm(["Name: kitbuild-fixture-two", "Version: 0.9", "Release: 1", "Summary: two", "License: GPLv2+ and LGPLv2+"]),
    ];
    run("rpm", ["--dbpath", dbpath, "-i", "--justdb", "--nodeps", "--noscripts", ...rpms]);
    const expected = run("rpm", ["--dbpath", dbpath, "-qa", "--qf", "%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE} %{ARCH} %{LICENSE}\\n"])
      .trim()
      .split("\n")
      .map((l) => l.replace(/ 0:/, " "))
      .sort();
    expect(expected.length).toBe(2);

    const doc = await scanRootfs(root, { name: "rpm", sourceDateEpoch: 0, signal: new AbortController().signal });
    const pkgs = doc.packages.slice(1);
    const listed = pkgs.map((p) => {
      const purl = new URL(p.externalRefs?.[0]?.referenceLocator ?? "");
      const text = doc.hasExtractedLicensingInfos?.find((l) => l.licenseId === p.licenseDeclared)?.extractedText ?? p.licenseDeclared;
      return `${p.name} ${p.versionInfo} ${purl.searchParams.get("arch")} ${text}`;
    });
    expect(listed.sort()).toEqual(expected);
    expect(pkgs.map((p) => p.externalRefs?.[0]?.referenceLocator)).toEqual([
      expect.stringMatching(/^pkg:rpm\/fedora\/kitbuild-fixture-one@1\.2\.3-4\.fc40\?arch=noarch&distro=fedora-40&epoch=1&upstream=kitbuild-fixture-one-1\.2\.3-4\.fc40\.src\.rpm$/) as unknown as string,
      expect.stringMatching(/^pkg:rpm\/fedora\/kitbuild-fixture-two@0\.9-1\?arch=noarch&distro=fedora-40&upstream=/) as unknown as string,
    ]);
    expect(pkgs[0]?.supplier).toBe("Organization: Kitbuild Tests");
    // rpm's own free-text license becomes a LicenseRef carrying the text.
    expect(pkgs[1]?.licenseDeclared).toMatch(/^LicenseRef-GPLv2-and-LGPLv2-[0-9a-f]{8}$/);
  }, 120_000);
});
