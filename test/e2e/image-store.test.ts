// kitbuild's image store end to end (compiled binary, the test registry on loopback): `-t NAME`
// alone keeps the image, `kitbuild images` lists it, another Dockerfile builds FROM it with no
// registry holding the name, `-q` prints the image ID (the config digest an OCI export writes),
// `--pull` takes the registry's image over the store's, a moved tag leaves the old image dangling,
// `rmi` untags and deletes, and `prune -af` keeps tagged images (their blobs) but not dangling
// ones. Needs root (builds need root in this version); COPY only, so no runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { expectExit, IS_ROOT, NEEDS_ROOT, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";
import * as u from "../fixtures/users.ts";

const skip = skipBecause(!IS_ROOT, `image store: ${NEEDS_ROOT}`);

let registry = "";
beforeAll(async () => {
  if (!skip) registry = await testRegistry();
});

/** Names unique to this run: the test registry may be shared by every test file of a run. */
const run = Math.random().toString(36).slice(2, 8);

/** A context whose Dockerfile is `FROM from` then `COPY who /who`, /who holding `who`. */
function context(from: string, who: string, extra = ""): string {
  const dir = tempDir("kitbuild-ctx-");
  writeFileSync(`${dir}/Dockerfile`, `FROM ${from}\nCOPY who /who\n${extra}`);
  writeFileSync(`${dir}/who`, `${who}\n`);
  return dir;
}

/** A context whose Dockerfile is only `FROM image`. */
function fromOnly(image: string): string {
  const dir = tempDir("kitbuild-ctx-");
  writeFileSync(`${dir}/Dockerfile`, `FROM ${image}\n`);
  return dir;
}

function kitbuild(args: string[], root: string) {
  return runKitbuild(args, { env: { KITBUILD_ROOT: root }, timeoutMs: 240_000 });
}

type ImageJson = { Repository: string; Tag: string; ID: string; Size: string; CreatedSince: string };

async function images(root: string, ...args: string[]): Promise<ImageJson[]> {
  const res = await kitbuild(["images", "--format", "json", ...args], root);
  expectExit(res, 0);
  return res.stdout.trim() === "" ? [] : res.stdout.trim().split("\n").map((l) => JSON.parse(l) as ImageJson);
}

/** Builds `ctx` into a directory and returns the file it wrote at `path`. */
async function builtFile(ctx: string, root: string, path: string, args: string[] = []): Promise<string> {
  const out = `${tempDir()}/out`;
  const res = await kitbuild(["build", "--progress=plain", ...args, "-o", out, ctx], root);
  expectExit(res, 0);
  return readFileSync(`${out}${path}`, "utf8");
}

describe.skipIf(skip)("kitbuild's image store (compiled binary)", () => {
  test("-t alone keeps the image; images lists it; FROM NAME builds from the store with no registry holding the name", async () => {
    const root = tempDir();
    const base = `base-${run}`;
    const local = `${registry}/only-local-${run}:v1`;
    const res = await kitbuild(["build", "--progress=plain", "-t", base, "-t", local, context(`${registry}/busybox`, "from-base")], root);
    expectExit(res, 0);
    expect(res.stderr).toContain(`naming to docker.io/library/${base}:latest done`);
    expect(res.stderr).toContain(`image kept in kitbuild's image store as ${base}, ${local}`);
    expect(res.stderr).not.toContain("No output specified");
    const listed = await images(root);
    expect(listed.map((i) => `${i.Repository}:${i.Tag}`).sort()).toEqual([`${base}:latest`, `${registry}/only-local-${run}:v1`].sort());
    expect(listed[0]?.ID).toMatch(/^[a-f0-9]{12}$/);
    expect(listed[0]?.ID).toBe(listed[1]?.ID as string);
    expect((await images(root, base)).map((i) => i.Repository)).toEqual([base]);
    expect((await images(root, "--filter", `reference=${registry}/only-local-*:v1`)).map((i) => i.Tag)).toEqual(["v1"]);
    expect(await images(root, "--filter", "dangling=true")).toEqual([]);
    const table = await kitbuild(["images"], root);
    expect(table.stdout.split("\n")[0]).toMatch(/^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$/);
    expect(table.stdout).toContain(base);
    // Neither name is in any registry: docker.io is out of reach, and the test registry never saw the other.
    const tags = await fetch(`http://${registry}/v2/only-local-${run}/tags/list`);
    expect(tags.status).toBe(404);
    // The built snapshots serve as the image's layers: nothing is unpacked again.
    const out = `${tempDir()}/child`;
    const child = await kitbuild(["build", "--progress=plain", "-o", out, fromOnly(base)], root);
    expectExit(child, 0);
    expect(child.stderr).not.toContain("extracting");
    expect(readFileSync(`${out}/who`, "utf8")).toBe("from-base\n");
    expect(await builtFile(fromOnly(local), root, "/who")).toBe("from-base\n");
    // --build-context NAME=docker-image://REF resolves the store first too.
    expect(await builtFile(fromOnly("app-base"), root, "/who", ["--build-context", `app-base=docker-image://${base}`])).toBe("from-base\n");
  }, 240_000);

  test("-q prints the image ID: the config digest of an OCI export, and the ID images lists", async () => {
    const root = tempDir();
    const ctx = context(`${registry}/busybox`, "quiet", 'LABEL purpose="id"\n');
    const dir = tempDir();
    const oci = await kitbuild(["build", "-q", "-o", `type=oci,dest=${dir}/img.tar`, ctx], root);
    expectExit(oci, 0);
    expect(oci.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    mkdirSync(`${dir}/x`);
    execFileSync("tar", ["-xf", `${dir}/img.tar`, "-C", `${dir}/x`]);
    const index = JSON.parse(readFileSync(`${dir}/x/index.json`, "utf8"));
    const manifest = JSON.parse(readFileSync(`${dir}/x/blobs/sha256/${index.manifests[0].digest.slice(7)}`, "utf8"));
    expect(oci.stdout.trim()).toBe(manifest.config.digest);
    // -q alone: no output, so the image is kept untagged, its ID printed and listed.
    const alone = await kitbuild(["build", "-q", ctx], root);
    expectExit(alone, 0);
    expect(alone.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    expect(alone.stderr).not.toContain("#1 ");
    const listed = await images(root, "--no-trunc");
    expect(listed).toContainEqual(expect.objectContaining({ Repository: "<none>", Tag: "<none>", ID: alone.stdout.trim() }));
    const ids = await kitbuild(["images", "-q", "--no-trunc", "--filter", "dangling=true"], root);
    expect(ids.stdout).toBe(alone.stdout);
  }, 240_000);

  test("dangling-name-prefix names an unnamed image PREFIX@DIGEST; --iidfile alone keeps the image untagged", async () => {
    const root = tempDir();
    const dir = tempDir();
    const prefix = `dangling-${run}`;
    const res = await kitbuild(["build", "--progress=plain", "--metadata-file", `${dir}/m.json`, "-o", `type=image,dangling-name-prefix=${prefix}`, context(`${registry}/busybox`, "prefixed")], root);
    expectExit(res, 0);
    const digest = JSON.parse(readFileSync(`${dir}/m.json`, "utf8"))["containerimage.digest"] as string;
    expect(res.stderr).toContain(`naming to docker.io/library/${prefix}@${digest} done`);
    expect((await images(root)).map((i) => [i.Repository, i.Tag])).toEqual([[prefix, "<none>"]]);
    expect(await builtFile(fromOnly(`${prefix}@${digest}`), root, "/who")).toBe("prefixed\n");
    const rmi = await kitbuild(["rmi", `${prefix}@${digest}`], root);
    expectExit(rmi, 0);
    expect(rmi.stdout).toStartWith(`Untagged: ${prefix}@${digest}\nDeleted: sha256:`);
    const bad = await kitbuild(["build", "-o", "type=image,dangling-name-prefix=Not_A_Name", context(`${registry}/busybox`, "x")], root);
    expectExit(bad, 2);
    expect(bad.stderr).toContain('invalid dangling-name-prefix "Not_A_Name"');
    const iid = await kitbuild(["build", "--iidfile", `${dir}/iid`, context(`${registry}/busybox`, "iid")], root);
    expectExit(iid, 0);
    expect(iid.stderr).not.toContain("No output specified");
    const listed = await images(root, "--no-trunc");
    expect(listed).toEqual([expect.objectContaining({ Repository: "<none>", ID: readFileSync(`${dir}/iid`, "utf8") })]);
  }, 240_000);

  test("a name in both the store and the registry: the store's without --pull, the registry's with it", async () => {
    const name = `${registry}/shared-${run}:v1`;
    const pushed = await kitbuild(["build", "--progress=plain", "--push", "-t", name, context(`${registry}/busybox`, "registry")], tempDir());
    expectExit(pushed, 0);
    const root = tempDir();
    expectExit(await kitbuild(["build", "-q", "-t", name, context(`${registry}/busybox`, "store")], root), 0);
    const user = fromOnly(name);
    expect(await builtFile(user, root, "/who")).toBe("store\n");
    expect(await builtFile(user, root, "/who", ["--pull"])).toBe("registry\n");
    expect(await builtFile(user, root, "/who")).toBe("store\n");
  }, 240_000);

  test("a moved tag leaves the old image dangling; its key changes, so FROM sees the new one", async () => {
    const root = tempDir();
    const name = `moved-${run}`;
    const first = await kitbuild(["build", "-q", "-t", name, context(`${registry}/busybox`, "one")], root);
    expectExit(first, 0);
    const user = fromOnly(name);
    expect(await builtFile(user, root, "/who")).toBe("one\n");
    const second = await kitbuild(["build", "-q", "-t", name, context(`${registry}/busybox`, "two")], root);
    expectExit(second, 0);
    expect(second.stdout).not.toBe(first.stdout);
    const listed = await images(root, "--no-trunc");
    expect(listed).toContainEqual(expect.objectContaining({ Repository: name, Tag: "latest", ID: second.stdout.trim() }));
    expect(listed).toContainEqual(expect.objectContaining({ Repository: "<none>", Tag: "<none>", ID: first.stdout.trim() }));
    expect(await builtFile(user, root, "/who")).toBe("two\n");
  }, 240_000);

  test("rmi untags and deletes as docker's rmi; an unknown name fails naming it; an ID with two names needs -f", async () => {
    const root = tempDir();
    const [a, b] = [`rmi-a-${run}`, `rmi-b-${run}`];
    const built = await kitbuild(["build", "-q", "-t", a, "-t", b, context(`${registry}/busybox`, "rmi")], root);
    expectExit(built, 0);
    const id = built.stdout.trim();
    const conflict = await kitbuild(["rmi", id.slice(7, 19)], root);
    expectExit(conflict, 1);
    expect(conflict.stderr).toContain("image is referenced in multiple repositories");
    const untag = await kitbuild(["rmi", a], root);
    expectExit(untag, 0);
    expect(untag.stdout).toBe(`Untagged: ${a}:latest\n`);
    const missing = await kitbuild(["rmi", `nosuch-${run}`, b], root);
    expectExit(missing, 1);
    expect(missing.stderr).toContain(`No such image: nosuch-${run}:latest`);
    // The other argument was still removed, with its image.
    expect(missing.stdout).toBe(`Untagged: ${b}:latest\nDeleted: ${id}\n`);
    expect(await images(root)).toEqual([]);
    const again = await kitbuild(["build", "-q", "-t", a, "-t", b, context(`${registry}/busybox`, "rmi")], root);
    const forced = await kitbuild(["rmi", "-f", again.stdout.trim()], root);
    expectExit(forced, 0);
    expect(forced.stdout).toBe(`Untagged: ${a}:latest\nUntagged: ${b}:latest\nDeleted: ${again.stdout.trim()}\n`);
  }, 240_000);

  test("prune -af keeps tagged images (FROM still works after it) and removes dangling ones", async () => {
    const root = tempDir();
    const name = `kept-${run}`;
    expectExit(await kitbuild(["build", "-q", "-t", name, context(`${registry}/busybox`, "kept")], root), 0);
    const dangling = await kitbuild(["build", "-q", context(`${registry}/busybox`, "dangling")], root);
    expectExit(dangling, 0);
    const pruned = await kitbuild(["prune", "-af"], root);
    expectExit(pruned, 0);
    const listed = await images(root);
    expect(listed.map((i) => i.Repository)).toEqual([name]);
    const user = fromOnly(name);
    expect(await builtFile(user, root, "/who")).toBe("kept\n");
  }, 240_000);

  test("the automatic GC never removes a kept image's blobs", async () => {
    const root = tempDir();
    const name = `gc-${run}`;
    expectExit(await kitbuild(["build", "-q", "-t", name, context(`${registry}/busybox`, "survives-gc")], root), 0);
    // A limit of one byte: the GC after this build removes everything it may.
    const squeezed = await runKitbuild(["build", "--progress=plain", "-o", `${tempDir()}/out`, context(`${registry}/busybox`, "other")], {
      env: { KITBUILD_ROOT: root, KITBUILD_GC_KEEP_STORAGE: "1" },
      timeoutMs: 240_000,
    });
    expectExit(squeezed, 0);
    expect(squeezed.stderr).toContain("[internal] garbage collection");
    expect((await images(root)).map((i) => i.Repository)).toEqual([name]);
    expect(await builtFile(fromOnly(name), root, "/who")).toBe("survives-gc\n");
  }, 240_000);

  test("without -t, -q or an output, the build warns that the result stays in the build cache", async () => {
    const root = tempDir();
    const res = await kitbuild(["build", "--progress=plain", context(`${registry}/busybox`, "none")], root);
    expectExit(res, 0);
    expect(res.stderr).toContain("No output specified. Build result will only remain in the build cache.");
    expect(await images(root)).toEqual([]);
  }, 240_000);

  test("images and rmi refuse unknown flags and surplus arguments (exit 2)", async () => {
    const root = tempDir();
    const cases: Array<[string[], string]> = [
      [["images", "--bogus"], "unknown flag: --bogus"],
      [["images", "a", "b"], "accepts at most 1 argument"],
      [["images", "--format", "{{.ID}}"], 'unsupported --format "{{.ID}}"'],
      [["images", "--filter", "label=x"], "invalid filter 'label'"],
      [["rmi", "--bogus", "x"], "unknown flag: --bogus"],
      [["rmi"], "requires at least 1 argument"],
    ];
    for (const [args, message] of cases) {
      const res = await kitbuild(args, root);
      expectExit(res, 2, `kitbuild ${args.join(" ")}`);
      expect(res.stderr).toContain(message);
    }
  }, 120_000);
});

const noRootless = u.rootlessUnavailable();
describe.skipIf(skip || skipBecause(noRootless !== undefined, `rootless image store: ${noRootless}`))("kitbuild's image store, rootless", () => {
  test("images and rmi open the user's cache root in its user namespace, where build kept the image", async () => {
    const { rootless } = u.ensureUsers();
    const bin = u.sharedBinary();
    const work = u.userDir(rootless);
    const ctx = `${work}/ctx`;
    mkdirSync(ctx);
    writeFileSync(`${ctx}/Dockerfile`, `FROM ${registry}/busybox\nCOPY who /who\n`);
    writeFileSync(`${ctx}/who`, "rootless\n");
    u.chownTree(ctx, rootless);
    const env = { USER: rootless.name, LOGNAME: rootless.name };
    const name = `rootless-${run}`;
    const built = await u.runAs(rootless, bin, work, ["build", "-q", "-t", name, ctx], { env, timeoutMs: 240_000 });
    expectExit(built, 0);
    const listed = await u.runAs(rootless, bin, work, ["images", "-q", "--no-trunc"], { env });
    expectExit(listed, 0);
    expect(listed.stdout).toBe(built.stdout);
    const removed = await u.runAs(rootless, bin, work, ["rmi", name], { env });
    expectExit(removed, 0);
    expect(removed.stdout).toBe(`Untagged: ${name}:latest\nDeleted: ${built.stdout}`);
  }, 240_000);
});
