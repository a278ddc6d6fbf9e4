// Attestations on pushed and written images (compiled binary, the test registry): pushed images get
// min provenance by default in an index beside an attestation manifest; the provenance names the
// base image by the digest the registry serves; --provenance=false pushes a plain manifest; a
// secret used by a RUN appears in no blob of a max-provenance push; the OCI layout holds the same
// index; bad values are usage errors. Needs root (builds need root); the secret test needs runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { makeGitRepo, serveFiles, serveGit } from "../servers.ts";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT, NEEDS_ROOT_AND_RUNC, expectExit, helloContext, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

const skip = skipBecause(!IS_ROOT, `attestation builds: ${NEEDS_ROOT}`);
const skipRun = skip || skipBecause(!HAS_RUNC, `the secret test: ${NEEDS_ROOT_AND_RUNC}`);
const TIMEOUT = 240_000;

let registry = "";
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
}, TIMEOUT);

type Desc = { mediaType: string; digest: string; size: number; annotations?: Record<string, string>; platform?: { os: string; architecture: string } };
type Doc = { mediaType: string; manifests?: Desc[]; layers?: Desc[]; config?: Desc };

const sha256 = (b: Uint8Array | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

function skopeoRaw(ref: string): Uint8Array {
  const res = spawnSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`]);
  expect(res.status, String(res.stderr)).toBe(0);
  return res.stdout;
}

async function registryGet(repo: string, kind: "manifests" | "blobs", digest: string): Promise<Uint8Array> {
  const accept = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
  const res = await fetch(`http://${registry}/v2/${repo}/${kind}/${digest}`, { headers: { Accept: accept } });
  expect(res.status).toBe(200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  expect(sha256(bytes)).toBe(digest);
  return bytes;
}

const json = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as Record<string, unknown>;

function build(args: string[], work: string, env: Record<string, string> = {}) {
  return runKitbuild(["build", "--progress=plain", ...args], { env: { KITBUILD_ROOT: `${work}/root`, ...env } });
}

/** The image manifest and attestation manifest of a pushed index, checked against BuildKit's layout. */
async function pushedIndex(repo: string, tag: string) {
  const rawIndex = skopeoRaw(`${registry}/${repo}:${tag}`);
  const index = json(rawIndex) as Doc;
  expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
  expect(index.manifests).toHaveLength(2);
  const [image, att] = index.manifests as [Desc, Desc];
  expect(image.platform?.os).toBe("linux");
  expect(att.platform).toEqual({ architecture: "unknown", os: "unknown" });
  expect(att.annotations).toEqual({ "vnd.docker.reference.digest": image.digest, "vnd.docker.reference.type": "attestation-manifest" });
  const attManifest = json(await registryGet(repo, "manifests", att.digest)) as Doc;
  const statements = [];
  for (const layer of attManifest.layers ?? []) {
    expect(layer.mediaType).toBe("application/vnd.in-toto+json");
    const st = json(await registryGet(repo, "blobs", layer.digest));
    expect(layer.annotations?.["in-toto.io/predicate-type"]).toBe(st.predicateType as string);
    statements.push(st);
  }
  return { indexDigest: sha256(rawIndex), image, statements };
}

describe.skipIf(skip)("attestations (compiled binary)", () => {
  test("a pushed image gets min provenance in an index; its materials name the base image's digest", async () => {
    const work = tempDir();
    const ctx = helloContext(`${registry}/busybox`);
    const res = await build(["--push", "-t", `${registry}/att-default:1`, "--build-arg", "VISIBLE=only-in-max", "--metadata-file", `${work}/meta.json`, ctx], work);
    expectExit(res, 0);
    const { indexDigest, image, statements } = await pushedIndex("att-default", "1");
    expect(statements).toHaveLength(1);
    const st = statements[0] as { _type: string; predicateType: string; subject: Array<{ name: string; digest: { sha256: string } }>; predicate: Record<string, any> };
    expect(st._type).toBe("https://in-toto.io/Statement/v0.1");
    expect(st.predicateType).toBe("https://slsa.dev/provenance/v0.2");
    expect(st.subject).toEqual([{ name: expect.stringContaining("att-default@1?platform=linux%2F"), digest: { sha256: image.digest.slice(7) } }]);
    const baseDigest = sha256(skopeoRaw(`${registry}/busybox`));
    const materials = st.predicate.materials as Array<{ uri: string; digest: Record<string, string> }>;
    expect(materials).toContainEqual({ uri: expect.stringMatching(/^pkg:docker\/.*busybox@latest\?platform=linux%2F/), digest: { sha256: baseDigest.slice(7) } });
    expect(st.predicate.buildType).toBe("https://mobyproject.org/buildkit@v1");
    expect(st.predicate.invocation.configSource).toEqual({ entryPoint: "Dockerfile" });
    expect(st.predicate.invocation.parameters.frontend).toBe("dockerfile.v0");
    // min mode: no build arguments, so the parameters are incomplete.
    expect(JSON.stringify(st.predicate)).not.toContain("only-in-max");
    expect(st.predicate.metadata.completeness.parameters).toBe(false);
    expect(st.predicate.buildConfig).toBeUndefined();
    const meta = JSON.parse(readFileSync(`${work}/meta.json`, "utf8"));
    expect(meta["containerimage.digest"]).toBe(indexDigest);
    expect(meta["containerimage.descriptor"].mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(meta["buildx.build.provenance"].materials).toEqual(materials);
  }, TIMEOUT);

  test("--provenance=false (or BUILDX_NO_DEFAULT_ATTESTATIONS=1) pushes a plain manifest", async () => {
    const work = tempDir();
    const ctx = helloContext(`${registry}/busybox`);
    expectExit(await build(["--push", "-t", `${registry}/att-off:1`, "--provenance=false", ctx], work), 0);
    expect((json(skopeoRaw(`${registry}/att-off:1`)) as Doc).mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expectExit(await build(["--push", "-t", `${registry}/att-off:2`, ctx], work, { BUILDX_NO_DEFAULT_ATTESTATIONS: "1" }), 0);
    expect((json(skopeoRaw(`${registry}/att-off:2`)) as Doc).mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
  }, TIMEOUT);

  test("an OCI layout with --provenance=mode=max holds the index, max details and the build arguments", async () => {
    const work = tempDir();
    const ctx = helloContext(`${registry}/busybox`);
    expectExit(await build(["-o", `type=oci,dest=${work}/layout,tar=false`, "--provenance=mode=max", "--build-arg", "SHOWN=in-max", ctx], work), 0);
    const blob = (d: string) => readFileSync(`${work}/layout/blobs/sha256/${d.slice(7)}`);
    const top = JSON.parse(readFileSync(`${work}/layout/index.json`, "utf8")) as Doc;
    expect(top.manifests?.[0]?.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    const index = json(blob(top.manifests?.[0]?.digest as string)) as Doc;
    const att = json(blob(index.manifests?.[1]?.digest as string)) as Doc;
    const st = json(blob(att.layers?.[0]?.digest as string)) as { predicate: Record<string, any> };
    expect(st.predicate.invocation.parameters.args["build-arg:SHOWN"]).toBe("in-max");
    expect(st.predicate.buildConfig.llbDefinition.length).toBeGreaterThan(0);
    const source = st.predicate.metadata["https://mobyproject.org/buildkit@v1#metadata"].source;
    expect(Buffer.from(source.infos[0].data, "base64").toString()).toBe(readFileSync(`${ctx}/Dockerfile`, "utf8"));
  }, TIMEOUT);

  test("ADD of a URL and of a git repository: the materials carry the download's sha256 and the commit", async () => {
    const work = tempDir();
    const files = tempDir("kitbuild-files-");
    writeFileSync(`${files}/data.txt`, `data ${randomBytes(4).toString("hex")}\n`);
    const http = serveFiles(files);
    const project = tempDir("kitbuild-git-");
    const repo = makeGitRepo(project, "repo");
    const commit = repo.commit({ "README": "hi\n" });
    const git = serveGit(project);
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, [`FROM ${registry}/busybox`, `ADD ${http.url}/data.txt /data.txt`, `ADD ${git.url}/repo.git#main /repo`, ""].join("\n"));
    expectExit(await build(["-o", `type=local,dest=${work}/out`, "--provenance=true", ctx], work), 0);
    const st = JSON.parse(readFileSync(`${work}/out/provenance.json`, "utf8")) as { predicate: { materials: Array<{ uri: string; digest: Record<string, string> }> } };
    const dataDigest = createHash("sha256").update(readFileSync(`${files}/data.txt`)).digest("hex");
    expect(st.predicate.materials).toContainEqual({ uri: `${http.url}/data.txt`, digest: { sha256: dataDigest } });
    expect(st.predicate.materials).toContainEqual({ uri: `${git.url}/repo.git#main`, digest: { sha1: commit } });
  }, TIMEOUT);

  test("oci-artifact=true: the attestation manifest is an OCI artifact whose subject is the image", async () => {
    const work = tempDir();
    const ctx = helloContext(`${registry}/busybox`);
    expectExit(await build(["-o", `type=image,name=${registry}/att-artifact:1,push=true,oci-artifact=true`, ctx], work), 0);
    const index = json(skopeoRaw(`${registry}/att-artifact:1`)) as Doc;
    const [image, att] = index.manifests as [Desc, Desc];
    expect((att as Desc & { artifactType?: string }).artifactType).toBe("application/vnd.docker.attestation.manifest.v1+json");
    const manifest = json(await registryGet("att-artifact", "manifests", att.digest)) as Doc & { artifactType: string; subject: Desc };
    expect(manifest.artifactType).toBe("application/vnd.docker.attestation.manifest.v1+json");
    expect(manifest.subject).toEqual({ mediaType: image.mediaType, digest: image.digest, size: image.size });
    expect(manifest.config?.mediaType).toBe("application/vnd.oci.empty.v1+json");
    expect(new TextDecoder().decode(await registryGet("att-artifact", "blobs", manifest.config?.digest as string))).toBe("{}");
  }, TIMEOUT);

  test("an inline cache is read from a pushed index (the platform's manifest in it)", async () => {
    const work = tempDir();
    const ctx = helloContext(`${registry}/busybox`);
    const ref = `${registry}/att-inline:1`;
    expectExit(await build(["--push", "-t", ref, "--cache-to", "type=inline", ctx], `${work}/a`), 0);
    expect((json(skopeoRaw(ref)) as Doc).mediaType).toBe("application/vnd.oci.image.index.v1+json");
    const res = await build(["--cache-from", ref, ctx], `${work}/b`);
    expectExit(res, 0);
    expect(res.stderr).toMatch(/COPY hello\.txt \/hello\.txt\n#\d+ CACHED/);
  }, TIMEOUT);

  test("bad attestation values are usage errors (exit 2)", async () => {
    const work = tempDir();
    const ctx = helloContext("scratch");
    for (const [args, message] of [
      [["--provenance=mode=medium"], 'invalid provenance mode "medium"'],
      [["--attest", "type=signature"], 'unknown attestation type "signature"'],
      [["--attest", "type=provenance,colour=red"], 'unknown provenance attestation option "colour"'],
      [["--attest", "type=sbom,generator=docker/scout-sbom-indexer"], "generator= is not supported"],
      [["--sbom=maybe"], "invalid attestation field"],
    ] as const) {
      const res = await build([...args, ctx], work);
      expectExit(res, 2, args.join(" "));
      expect(res.stderr).toContain(message);
    }
  }, TIMEOUT);
});

describe.skipIf(skipRun)("secrets and provenance (compiled binary, runc)", () => {
  test("a secret used by a RUN is in no blob of a max-provenance push", async () => {
    const work = tempDir();
    const secret = `kitbuild-secret-${randomBytes(12).toString("hex")}`;
    const ctx = tempDir("kitbuild-ctx-");
    writeFileSync(`${ctx}/Dockerfile`, [`FROM ${registry}/busybox`, "RUN --mount=type=secret,id=s,env=S test -n \"$S\" && echo used > /used"].join("\n"));
    const res = await build(["--push", "-t", `${registry}/att-secret:1`, "--provenance=mode=max", "--secret", "id=s,env=S", ctx], work, { S: secret });
    expectExit(res, 0);
    const { image, statements } = await pushedIndex("att-secret", "1");
    expect(JSON.stringify(statements[0])).toContain('"id":"s"');
    const imageManifest = json(await registryGet("att-secret", "manifests", image.digest)) as Doc;
    const index = json(skopeoRaw(`${registry}/att-secret:1`)) as Doc;
    const documents: Uint8Array[] = [skopeoRaw(`${registry}/att-secret:1`)];
    for (const m of index.manifests ?? []) {
      const doc = await registryGet("att-secret", "manifests", m.digest);
      documents.push(doc);
      const parsed = json(doc) as Doc;
      for (const d of [parsed.config as Desc, ...(parsed.layers ?? [])]) {
        const bytes = await registryGet("att-secret", "blobs", d.digest);
        documents.push(d.mediaType.endsWith("gzip") ? gunzipSync(bytes) : bytes);
      }
    }
    expect(documents.length).toBeGreaterThanOrEqual(4 + (imageManifest.layers?.length ?? 0));
    for (const doc of documents) expect(Buffer.from(doc).includes(secret)).toBe(false);
    expect(res.stderr).not.toContain(secret);
  }, TIMEOUT);
});
