// Debian's busybox-static for foreign architectures (arm64, armhf), the binaries of the tests'
// multi-platform base image. apt fetches the packages with a private state directory (its own
// package lists for those architectures, the machine's sources and keys), so the machine's dpkg
// gets no foreign architecture; `dpkg-deb -x` unpacks them (nothing is installed). The binaries
// are kept in a cache directory between runs; setup.sh fetches them once, the fixture again when
// the cache is gone.
//
//   bun scripts/foreign-busybox.ts      fetches (or finds) them and prints their paths
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";

/** A Debian architecture, the OCI platform its binaries run as, and qemu's name for it. */
export type ForeignArch = { debian: string; architecture: string; variant: string; uname: string };

/** arm64 and 32-bit arm v7 (armhf): Debian bookworm builds busybox-static for both, qemu runs both well. */
export const FOREIGN_ARCHES: readonly ForeignArch[] = [
  { debian: "arm64", architecture: "arm64", variant: "v8", uname: "aarch64" },
  { debian: "armhf", architecture: "arm", variant: "v7", uname: "armv7l" },
];

export type ForeignBinaries = { kind: "ready"; binaries: Map<string, string> } | { kind: "unavailable"; reason: string };

const cacheDir = () => process.env.KITBUILD_FOREIGN_CACHE || `${tmpdir()}/kitbuild-foreign-cache`;
const binaryPath = (arch: ForeignArch) => `${cacheDir()}/busybox-${arch.debian}`;

/** The busybox binary of each foreign architecture (by Debian name), fetched when not cached. */
export function foreignBusyboxBinaries(): ForeignBinaries {
  const missing = FOREIGN_ARCHES.filter((a) => !existsSync(binaryPath(a)));
  if (missing.length > 0) {
    const why = fetchBinaries(missing);
    if (why) return { kind: "unavailable", reason: why };
  }
  return { kind: "ready", binaries: new Map(FOREIGN_ARCHES.map((a) => [a.debian, binaryPath(a)])) };
}

/** Downloads and unpacks the packages; returns why not when it cannot. */
function fetchBinaries(arches: readonly ForeignArch[]): string | undefined {
  if (!Bun.which("apt-get") || !Bun.which("dpkg-deb")) return "apt-get and dpkg-deb are needed to fetch Debian's busybox-static for foreign architectures";
  const work = `${cacheDir()}/work-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  for (const d of ["lists/partial", "archives/partial", "debs"]) mkdirSync(`${work}/${d}`, { recursive: true });
  try {
    const apt = (args: string[], cwd = work) => {
      const options = [
        `Dir::State::Lists=${work}/lists`, `Dir::Cache=${work}`, "Dir::Cache::pkgcache=", "Dir::Cache::srcpkgcache=",
        // As root apt downloads as _apt, which cannot write here; the files are ours anyway.
        "APT::Sandbox::User=root",
        ...arches.map((a) => `APT::Architectures::=${a.debian}`),
      ];
      const res = spawnSync("apt-get", [...options.flatMap((o) => ["-o", o]), "-qq", ...args], { cwd, encoding: "utf8", timeout: 10 * 60_000 });
      if (res.status !== 0) throw new Error(`apt-get ${args[0]} failed: ${(res.stderr || res.error?.message || "").trim().split("\n").slice(-2).join(" / ")}`);
    };
    apt(["update"]);
    apt(["download", ...arches.map((a) => `busybox-static:${a.debian}`)], `${work}/debs`);
    for (const arch of arches) {
      const deb = readdirSync(`${work}/debs`).find((f) => f.endsWith(`_${arch.debian}.deb`));
      if (!deb) throw new Error(`apt-get download gave no busybox-static for ${arch.debian}`);
      const root = `${work}/root-${arch.debian}`;
      const x = spawnSync("dpkg-deb", ["-x", `${work}/debs/${deb}`, root], { encoding: "utf8" });
      if (x.status !== 0) throw new Error(`dpkg-deb -x ${deb} failed: ${x.stderr}`);
      copyFileSync(`${root}/bin/busybox`, `${work}/busybox-${arch.debian}`);
      // Renamed into place last: a concurrent run sees the whole file or none.
      renameSync(`${work}/busybox-${arch.debian}`, binaryPath(arch));
    }
    return undefined;
  } catch (e) {
    return (e as Error).message;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const got = foreignBusyboxBinaries();
  if (got.kind === "unavailable") {
    console.error(`foreign busybox unavailable: ${got.reason}`);
    process.exit(1);
  }
  for (const [arch, path] of got.binaries) console.log(`${arch} ${path}`);
}
