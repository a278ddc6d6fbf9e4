// A Debian base image for the tests that need a real distribution (useradd, an ssh client): made
// with debootstrap (bookworm, minbase, plus openssh-client), stripped like Debian's official image,
// packed into one gzip layer and pushed to the test registry as debian:bookworm. debootstrap needs
// root and the Debian mirror; the packed layer is kept in a temp directory between runs, so only
// the first run pays for it (about a minute).
//
//   bun scripts/test-debian.ts 127.0.0.1:PORT     builds (or reuses) the layer and pushes it
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { hostArch, pushLayers, type GzipLayer } from "./test-env.ts";

export const DEBIAN_REPO = "debian";
export const DEBIAN_TAG = "bookworm";

const SUITE = "bookworm";
const PACKAGES = ["openssh-client"];
/** What Debian's own image leaves out, and /dev (the runtime provides it). */
const STRIP = ["dev/*", "etc/hostname", "etc/resolv.conf", "var/lib/apt/lists/*", "var/cache/apt/*", "usr/share/doc/*", "usr/share/man/*", "usr/share/locale/*"];

export type DebianImage = { kind: "ready"; ref: string } | { kind: "unavailable"; reason: string };

export const debianCacheDir = () => process.env.KITBUILD_DEBIAN_CACHE || `${tmpdir()}/kitbuild-debian-cache`;

/** Makes sure `registry` has debian:bookworm; says why not when debootstrap cannot run here. */
export async function debianImage(registry: string): Promise<DebianImage> {
  const ref = `${registry}/${DEBIAN_REPO}:${DEBIAN_TAG}`;
  const head = await fetch(`http://${registry}/v2/${DEBIAN_REPO}/manifests/${DEBIAN_TAG}`, {
    method: "HEAD",
    headers: { Accept: "application/vnd.oci.image.manifest.v1+json" },
  });
  if (head.status === 200) return { kind: "ready", ref };
  const layer = loadCachedLayer() ?? buildLayer();
  if ("reason" in layer) return { kind: "unavailable", reason: layer.reason };
  await pushLayers(registry, DEBIAN_REPO, DEBIAN_TAG, [layer], debianConfig(`kitbuild test-debian: debootstrap --variant=minbase ${SUITE}`));
  return { kind: "ready", ref };
}

/** The image config of a one-layer Debian image, as Debian's own (PATH, `bash`); `createdBy` is its history. */
export function debianConfig(createdBy: string): Record<string, unknown> {
  return {
    architecture: hostArch(),
    os: "linux",
    created: "1970-01-01T00:00:00Z",
    config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["bash"] },
    history: [{ created: "1970-01-01T00:00:00Z", created_by: createdBy }],
  };
}

type Meta = { diffId: string; digest: string; size: number };

function loadCachedLayer(): GzipLayer | undefined {
  const meta = `${debianCacheDir()}/${SUITE}.json`;
  if (!existsSync(meta)) return undefined;
  const m = JSON.parse(readFileSync(meta, "utf8")) as Meta;
  return { ...m, body: Bun.file(`${debianCacheDir()}/${SUITE}.tar.gz`) };
}

function buildLayer(): GzipLayer | { reason: string } {
  if (process.getuid?.() !== 0) return { reason: "debootstrap needs root" };
  if (!Bun.which("debootstrap")) return { reason: "debootstrap is not installed (apt-get install debootstrap)" };
  const dir = debianCacheDir();
  const work = `${dir}/work-${process.pid}`;
  mkdirSync(work, { recursive: true });
  try {
    const mirror = process.env.KITBUILD_DEBIAN_MIRROR || "http://deb.debian.org/debian";
    const boot = spawnSync("debootstrap", ["--variant=minbase", `--include=${PACKAGES.join(",")}`, SUITE, `${work}/rootfs`, mirror], {
      encoding: "utf8",
      timeout: 20 * 60_000,
    });
    if (boot.status !== 0) {
      const last = `${boot.stdout ?? ""}${boot.stderr ?? ""}`.trim().split("\n").slice(-3).join(" / ");
      return { reason: `debootstrap ${SUITE} from ${mirror} failed: ${last || boot.error?.message}` };
    }
    const tar = spawnSync("tar", ["--numeric-owner", "--sort=name", ...STRIP.map((p) => `--exclude=./${p}`), "-C", `${work}/rootfs`, "-cf", `${work}/layer.tar`, "."]);
    if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
    const gzip = spawnSync("sh", ["-c", `gzip -n -6 -c "${work}/layer.tar" > "${work}/layer.tar.gz"`]);
    if (gzip.status !== 0) throw new Error(`gzip failed: ${gzip.stderr}`);
    const meta: Meta = { diffId: sha256File(`${work}/layer.tar`), digest: sha256File(`${work}/layer.tar.gz`), size: Bun.file(`${work}/layer.tar.gz`).size };
    renameSync(`${work}/layer.tar.gz`, `${dir}/${SUITE}.tar.gz`);
    writeFileSync(`${work}/meta.json`, JSON.stringify(meta));
    renameSync(`${work}/meta.json`, `${dir}/${SUITE}.json`);
    return { ...meta, body: Bun.file(`${dir}/${SUITE}.tar.gz`) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function sha256File(path: string): string {
  const res = spawnSync("sha256sum", [path], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`sha256sum failed: ${res.stderr}`);
  return `sha256:${res.stdout.split(" ")[0]}`;
}

if (import.meta.main) {
  const registry = process.argv[2];
  if (!registry) throw new Error("usage: bun scripts/test-debian.ts HOST:PORT");
  const img = await debianImage(registry);
  console.log(img.kind === "ready" ? img.ref : `unavailable: ${img.reason}`);
}
