// B4's base image: one gzip layer of about 180 MB holding the tests' Debian rootfs (debootstrap
// minbase, see scripts/test-debian.ts) twice, at / and under /opt/copy, so the layer has a real
// distribution's mix of small and large files at the size the scenario names. Made once
// and kept beside the Debian layer it comes from.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { debianCacheDir, debianConfig, debianImage, sha256File } from "../test-debian.ts";
import { pushLayers, type GzipLayer } from "../test-env.ts";

type Meta = { diffId: string; digest: string; size: number; bytes: number };

function sh(script: string): string {
  const res = spawnSync("sh", ["-c", script], { encoding: "utf8", maxBuffer: 1 << 24 });
  if (res.status !== 0) throw new Error(`${script} failed (${res.status}): ${res.stderr}`);
  return res.stdout;
}

function makeLayer(dir: string): Meta {
  const work = `${dir}/double-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(`${work}/root/opt/copy`, { recursive: true });
  try {
    const source = `${dir}/bookworm.tar.gz`;
    sh(`tar -xzf "${source}" -C "${work}/root" && tar -xzf "${source}" -C "${work}/root/opt/copy"`);
    sh(`tar --numeric-owner --sort=name --mtime=@0 -C "${work}/root" -cf "${work}/layer.tar" .`);
    sh(`gzip -n -6 -c "${work}/layer.tar" > "${work}/layer.tar.gz"`);
    const meta: Meta = {
      diffId: sha256File(`${work}/layer.tar`),
      digest: sha256File(`${work}/layer.tar.gz`),
      size: Bun.file(`${work}/layer.tar.gz`).size,
      bytes: Bun.file(`${work}/layer.tar`).size,
    };
    renameSync(`${work}/layer.tar.gz`, `${dir}/bookworm-double.tar.gz`);
    writeFileSync(`${dir}/bookworm-double.json`, JSON.stringify(meta));
    return meta;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Pushes the doubled Debian image to `registry` as `repo`; returns its reference, layer URL and sizes. */
export async function pushDoubleDebian(registry: string, repo: string): Promise<{ ref: string; blobUrl: string; bytes: number; gzipped: number }> {
  const debian = await debianImage(registry);
  if (debian.kind !== "ready") throw new Error(`no Debian layer for the benchmark: ${debian.reason}`);
  const dir = debianCacheDir();
  const metaFile = `${dir}/bookworm-double.json`;
  const meta: Meta = existsSync(metaFile) ? JSON.parse(readFileSync(metaFile, "utf8")) : makeLayer(dir);
  const layer: GzipLayer = { diffId: meta.diffId, digest: meta.digest, size: meta.size, body: Bun.file(`${dir}/bookworm-double.tar.gz`) };
  await pushLayers(registry, repo, "latest", [layer], debianConfig("kitbuild bench: Debian minbase twice"));
  return { ref: `${registry}/${repo}:latest`, blobUrl: `http://${registry}/v2/${repo}/blobs/${meta.digest}`, bytes: meta.bytes, gzipped: meta.size };
}
