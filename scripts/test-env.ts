// The environment the tests and the offline example run against: Debian's docker-registry on a free
// loopback port with its storage in a temp dir, and a busybox base image built here from Debian's
// busybox-static and pushed to it. Nothing reaches the internet. Self-contained on purpose: it does
// not use kitbuild's own registry or tar code, so a bug there cannot hide behind the fixture.
//
//   bun scripts/test-env.ts            starts it, prints KITBUILD_TEST_REGISTRY=…, runs until killed
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { gzipSync } from "node:zlib";
import { pack as tarPack, type Header } from "tar-stream";

export type TestEnv = {
  /** host:port of the registry, e.g. "127.0.0.1:41234". */
  registry: string;
  /** The busybox image reference in that registry. */
  busybox: string;
  stop(): Promise<void>;
};

const REGISTRY_BIN = "/usr/bin/docker-registry";
const BUSYBOX_BIN = "/bin/busybox";

export async function startTestEnv(): Promise<TestEnv> {
  const dir = mkdtempSync(`${tmpdir()}/kitbuild-registry-`);
  const { child, addr } = await startRegistry(dir);
  const stop = async () => {
    child.kill("SIGTERM");
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await pushImage(addr, "busybox", "latest", await busyboxImage());
  } catch (e) {
    await stop();
    throw e;
  }
  return { registry: addr, busybox: `${addr}/busybox:latest`, stop };
}

export async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/**
 * Starts docker-registry with its config in `dir`. `extraConfig` adds YAML lines (an `auth:` block);
 * `storage` lets several registries serve the same images (default: `dir`/data).
 */
export async function startRegistry(dir: string, extraConfig: string[] = [], storage = `${dir}/data`): Promise<{ child: ChildProcess; addr: string }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const addr = `127.0.0.1:${await freePort()}`;
    const config = `${dir}/config.yml`;
    writeFileSync(
      config,
      [
        "version: 0.1",
        "log: {level: error, accesslog: {disabled: true}}",
        `storage: {filesystem: {rootdirectory: ${storage}}, delete: {enabled: true}}`,
        `http: {addr: "${addr}"}`,
        ...extraConfig,
        "",
      ].join("\n"),
    );
    // Its log goes to a file, not a pipe: scripts/test.ts waits for bun test with spawnSync, so nothing
    // would drain a pipe, and once 64 KiB of error lines filled it the registry stopped answering.
    const log = `${dir}/registry.log`;
    const fd = openSync(log, "w");
    const child = spawn(REGISTRY_BIN, ["serve", config], { stdio: ["ignore", "ignore", fd] });
    closeSync(fd);
    if (await waitReady(addr, child)) return { child, addr };
    child.kill("SIGKILL");
    const stderr = readFileSync(log, "utf8");
    if (!stderr.includes("address already in use")) throw new Error(`docker-registry did not start: ${stderr}`);
  }
  throw new Error("docker-registry found no free port");
}

async function waitReady(addr: string, child: ChildProcess): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(`http://${addr}/v2/`);
      // 401: a registry with auth is up too.
      if (res.status === 200 || res.status === 401) return true;
    } catch {
      // not listening yet
    }
    await Bun.sleep(50);
  }
  return false;
}

export type ImageParts = { layers: Uint8Array[]; config: Record<string, unknown> };

const sha256 = (b: Uint8Array | string) => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;

/** Pushes an image of gzip layers (each given uncompressed) with an OCI manifest; returns its digest. */
export async function pushImage(addr: string, repo: string, tag: string | undefined, image: ImageParts): Promise<string> {
  return (await pushImageDescribed(addr, repo, tag, image)).digest;
}

/** pushImage, returning the manifest's digest and size (for an index that lists it). */
export async function pushImageDescribed(addr: string, repo: string, tag: string | undefined, image: ImageParts): Promise<{ digest: string; size: number }> {
  const layers = image.layers.map((tarBytes) => {
    const gz = gzipSync(tarBytes, { level: 6 });
    return { diffId: sha256(tarBytes), digest: sha256(gz), size: gz.length, body: gz };
  });
  return pushLayersDescribed(addr, repo, tag, layers, image.config);
}

/** A gzip layer already compressed (possibly a file, for big layers): its digests, size and bytes. */
export type GzipLayer = { diffId: string; digest: string; size: number; body: Uint8Array | Blob };

/**
 * Pushes compressed layers and a config with an OCI manifest under `tag` (or by its digest when
 * `tag` is undefined, as a manifest of an index); returns the manifest's digest.
 */
export async function pushLayers(addr: string, repo: string, tag: string | undefined, layers: GzipLayer[], imageConfig: Record<string, unknown>): Promise<string> {
  return (await pushLayersDescribed(addr, repo, tag, layers, imageConfig)).digest;
}

async function pushLayersDescribed(addr: string, repo: string, tag: string | undefined, layers: GzipLayer[], imageConfig: Record<string, unknown>): Promise<{ digest: string; size: number }> {
  const config = { ...imageConfig, rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) } };
  const configBytes = new TextEncoder().encode(JSON.stringify(config));
  await pushBlob(addr, repo, configBytes, sha256(configBytes));
  for (const l of layers) await pushBlob(addr, repo, l.body, l.digest);
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256(configBytes), size: configBytes.length },
    layers: layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: l.digest, size: l.size })),
  };
  const body = JSON.stringify(manifest);
  return { digest: await putManifest(addr, repo, tag, manifest.mediaType, body), size: Buffer.byteLength(body) };
}

/** An image of an index: its manifest's digest and size, and the platform it is for. */
export type IndexEntry = { digest: string; size: number; platform: { os: string; architecture: string; variant?: string } };

/** Pushes an OCI index of manifests already in `repo`; returns its digest. */
export async function pushIndex(addr: string, repo: string, tag: string, entries: IndexEntry[]): Promise<string> {
  const mediaType = "application/vnd.oci.image.index.v1+json";
  const manifests = entries.map((e) => ({ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: e.digest, size: e.size, platform: e.platform }));
  return putManifest(addr, repo, tag, mediaType, JSON.stringify({ schemaVersion: 2, mediaType, manifests }));
}

async function putManifest(addr: string, repo: string, tag: string | undefined, mediaType: string, body: string): Promise<string> {
  const digest = sha256(body);
  const res = await fetch(`http://${addr}/v2/${repo}/manifests/${tag ?? digest}`, { method: "PUT", headers: { "Content-Type": mediaType }, body });
  if (res.status !== 201) throw new Error(`manifest push failed: ${res.status} ${await res.text()}`);
  return digest;
}

async function pushBlob(addr: string, repo: string, blob: Uint8Array | Blob, digest: string): Promise<void> {
  const start = await fetch(`http://${addr}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  if (start.status !== 202) throw new Error(`blob upload start failed: ${start.status}`);
  const location = new URL(start.headers.get("location") ?? "", `http://${addr}`);
  location.searchParams.set("digest", digest);
  const put = await fetch(location, {
    method: "PUT",
    headers: { "Content-Type": "application/octet-stream" },
    body: blob,
  });
  if (put.status !== 201) throw new Error(`blob upload failed: ${put.status} ${await put.text()}`);
}

type Entry = Partial<Header> & { name: string; body?: Uint8Array };

/** A deterministic tar of the given entries (sorted by the caller). */
export async function makeTar(entries: Entry[]): Promise<Uint8Array> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  pack.on("data", (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on("end", () => r()));
  for (const { body, ...header } of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ uid: 0, gid: 0, mtime: new Date(0), ...header }, body ? Buffer.from(body) : "", (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }
  pack.finalize();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}

const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
  "user:x:1000:1000:user:/home/user:/bin/sh",
  "",
].join("\n");
const GROUP = ["root:x:0:", "nobody:x:65534:", "user:x:1000:", ""].join("\n");

/**
 * Every applet of Debian's busybox-static, hardlinked as in the official busybox image; `binary` is
 * the busybox put in (another architecture's for a foreign image: the applet list is the host's
 * busybox's, the same Debian build).
 */
function busyboxEntries(binary = BUSYBOX_BIN): Entry[] {
  const applets = execFileSync(BUSYBOX_BIN, ["--list-full"], { encoding: "utf8" })
    .split("\n")
    .filter((p) => p.includes("/") && p !== "bin/busybox");
  const dirs = ["bin", "dev", "etc", "home", "home/user", "proc", "root", "sbin", "sys", "tmp", "usr", "usr/bin", "usr/sbin", "var"];
  const entries: Entry[] = dirs.map((d) => ({
    name: `${d}/`,
    type: "directory",
    mode: d === "tmp" ? 0o1777 : d === "root" ? 0o700 : 0o755,
    ...(d === "home/user" ? { uid: 1000, gid: 1000 } : {}),
  }));
  entries.push({ name: "bin/busybox", type: "file", mode: 0o755, body: readFileSync(binary) });
  for (const a of applets) entries.push({ name: a, type: "link", linkname: "bin/busybox", mode: 0o755 });
  entries.push({ name: "etc/passwd", type: "file", mode: 0o644, body: new TextEncoder().encode(PASSWD) });
  entries.push({ name: "etc/group", type: "file", mode: 0o644, body: new TextEncoder().encode(GROUP) });
  return entries;
}

let cachedLayer: Uint8Array | undefined;

/** The busybox image's parts; the layer is built once per process (the same bytes every time). */
export async function busyboxImage(): Promise<ImageParts> {
  cachedLayer ??= await makeTar(busyboxEntries());
  return { layers: [cachedLayer], config: busyboxConfig() };
}

/** Another architecture's busybox image: `binary` for `architecture` (and `variant`). */
export async function foreignBusyboxImage(binary: string, architecture: string, variant?: string): Promise<ImageParts> {
  const config = { ...busyboxConfig(), architecture, ...(variant ? { variant } : {}) };
  return { layers: [await makeTar(busyboxEntries(binary))], config };
}

function busyboxConfig(): Record<string, unknown> {
  return {
    architecture: hostArch(),
    os: "linux",
    created: "1970-01-01T00:00:00Z",
    config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
    history: [{ created: "1970-01-01T00:00:00Z", created_by: "kitbuild test-env: busybox-static" }],
  };
}

export function hostArch(): string {
  return ({ x64: "amd64", arm64: "arm64" } as Record<string, string>)[process.arch] ?? process.arch;
}

if (import.meta.main) {
  const env = await startTestEnv();
  console.log(`KITBUILD_TEST_REGISTRY=${env.registry}`);
  const stop = () => env.stop().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  await new Promise(() => {});
}
