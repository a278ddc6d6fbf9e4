// The SBOM of a real distribution: the Debian test image (scripts/test-debian.ts, made with
// debootstrap, cached between runs) pulled from the test registry and unpacked into a directory.
// What the scanner lists must be exactly what dpkg itself reports installed in that root
// (`dpkg-query --admindir`), names, versions and architectures. Needs root (debootstrap).
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { debianImage, DEBIAN_REPO, DEBIAN_TAG } from "../../scripts/test-debian.ts";
import { scanRootfs } from "../../src/exporter/sbom/scan.ts";
import { IS_ROOT, NEEDS_ROOT, skipBecause, tempDir, testRegistry } from "../harness.ts";

const HAS_DPKG_QUERY = Bun.which("dpkg-query") !== null;
const skipRoot = skipBecause(!IS_ROOT || !HAS_DPKG_QUERY, `Debian SBOM: ${IS_ROOT ? "dpkg-query is not installed" : NEEDS_ROOT}`);
const registry = skipRoot ? undefined : await testRegistry();
const debian = registry === undefined ? undefined : await debianImage(registry);
const skip = skipRoot || skipBecause(debian?.kind !== "ready", `Debian SBOM: no Debian image (${debian?.kind === "unavailable" ? debian.reason : "skipped"})`);

/** Pulls the image's layers from the test registry and unpacks them, in order, into a new directory. */
async function unpackDebian(addr: string): Promise<string> {
  const accept = { Accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" };
  const manifest = (await (await fetch(`http://${addr}/v2/${DEBIAN_REPO}/manifests/${DEBIAN_TAG}`, { headers: accept })).json()) as { layers: { digest: string }[] };
  const root = tempDir("kitbuild-sbom-debian-");
  const work = tempDir("kitbuild-sbom-layer-");
  for (const layer of manifest.layers) {
    writeFileSync(`${work}/layer.tgz`, new Uint8Array(await (await fetch(`http://${addr}/v2/${DEBIAN_REPO}/blobs/${layer.digest}`)).arrayBuffer()));
    const tar = spawnSync("tar", ["--numeric-owner", "-xzf", `${work}/layer.tgz`, "-C", root], { encoding: "utf8" });
    if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
  }
  return root;
}

describe.skipIf(skip)("the SBOM of the Debian test image", () => {
  test("lists every package dpkg-query lists as installed, with the same version and architecture", async () => {
    const root = await unpackDebian(registry as string);
    // dpkg-query -W also lists packages whose configuration files remain (state config-files):
    // only the installed ones belong in an SBOM.
    const query = spawnSync("dpkg-query", [`--admindir=${root}/var/lib/dpkg`, "-W", "-f", "${db:Status-Status} ${Package} ${Version} ${Architecture}\n"], { encoding: "utf8" });
    expect(query.status).toBe(0);
    const expected = query.stdout
      .split("\n")
      .filter((l) => l.startsWith("installed "))
      .map((l) => l.slice("installed ".length))
      .sort();
    expect(expected.length).toBeGreaterThan(50);

    const doc = await scanRootfs(root, { name: `${registry}/${DEBIAN_REPO}:${DEBIAN_TAG}`, sourceDateEpoch: 0, signal: new AbortController().signal });
    const debs = doc.packages.filter((p) => p.externalRefs?.[0]?.referenceLocator.startsWith("pkg:deb/"));
    const listed = debs.map((p) => `${p.name} ${p.versionInfo} ${new URL(p.externalRefs?.[0]?.referenceLocator ?? "").searchParams.get("arch")}`).sort();
    expect(listed).toEqual(expected);

    const osRelease = spawnSync("sh", ["-c", '. ./usr/lib/os-release && echo "$ID-$VERSION_ID"'], { cwd: root, encoding: "utf8" }).stdout.trim();
    for (const p of debs) expect(p.externalRefs?.[0]?.referenceLocator).toContain(`distro=${osRelease}`);
    // The image holds no other package databases: everything found is a Debian package.
    expect(doc.packages.length).toBe(debs.length + 1);
  }, 300_000);
});
