// Auth against the real docker-registry: htpasswd Basic auth and token mode (the test issuer signs
// tokens the registry verifies), anonymous and with credentials from a docker config, an identity
// token, a credential helper and a credential store. Tokens are cached per scope; secrets never show
// up in error messages.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import type { Credentials } from "../../src/registry/credentials.ts";
import { dockerConfigCredentials } from "../../src/registry/credentials.ts";
import { mergeScopes } from "../../src/registry/auth.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { readDockerConfig } from "../../src/registry/docker-config.ts";
import { login } from "../../src/registry/login.ts";
import { getManifest } from "../../src/registry/manifest.ts";
import { fetchBlobToStore } from "../../src/registry/pull.ts";
import { pushBlob, putManifest } from "../../src/registry/push.ts";
import { parseReference } from "../../src/registry/reference.ts";
import type { Digest, Manifest } from "../../src/oci/types.ts";
import { MEDIA_OCI_MANIFEST } from "../../src/oci/media-types.ts";
import { helperHas, installTestHelper } from "../fixtures/credential-helper.ts";
import { startFaultProxy } from "../fixtures/fault-proxy.ts";
import { startRegistryGroup, type RegistryGroup } from "../fixtures/registries.ts";
import { tempDir } from "../harness.ts";
import { sha256Of, signal, storeContents, tempStore, testClient } from "./helpers.ts";

let group: RegistryGroup;
let good: Credentials;
let bad: Credentials;

beforeAll(async () => {
  group = await startRegistryGroup();
  good = { ...group.user };
  bad = { username: group.user.username, password: `wrong-${group.user.password}` };
});
afterAll(async () => group?.stop());

/** Pulls busybox's manifest and all its blobs; returns the store's blobs. */
async function pullBusybox(client: RegistryClient, host: string, repo = "busybox"): Promise<string[]> {
  const ref = parseReference(`${host}/${repo}`);
  const m = await getManifest(client, ref, "latest", signal());
  const manifest = JSON.parse(new TextDecoder().decode(m.bytes)) as Manifest;
  const store = tempStore();
  for (const d of [manifest.config, ...manifest.layers]) await fetchBlobToStore(client, ref, d, store, signal());
  return storeContents(store).blobs;
}

/** Pushes a small image (one random blob as config) and tags it. */
async function pushSmallImage(client: RegistryClient, host: string, repo: string): Promise<Digest> {
  const ref = parseReference(`${host}/${repo}:v1`);
  const config = new TextEncoder().encode(JSON.stringify({ architecture: "amd64", os: "linux", nonce: randomBytes(8).toString("hex"), rootfs: { type: "layers", diff_ids: [] } }));
  const desc = { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256Of(config), size: config.length };
  await pushBlob(client, ref, desc, new Blob([config]), {}, signal());
  const manifest = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_OCI_MANIFEST, config: desc, layers: [] }));
  return putManifest(client, ref, "v1", manifest, MEDIA_OCI_MANIFEST, signal());
}

function expectNoSecret(err: { message: string; hint?: string }) {
  for (const text of [err.message, err.hint ?? ""]) {
    expect(text).not.toContain(group.user.password);
    expect(text).not.toContain(Buffer.from(`${group.user.username}:${group.user.password}`).toString("base64"));
  }
}

describe("htpasswd Basic auth", () => {
  test("anonymous access is refused with a hint to log in", async () => {
    const err = await pullBusybox(testClient(), group.basic).catch((e) => e);
    expect(err.code).toBe("E_REGISTRY_UNAUTHORIZED");
    expect(err.message).toBe(`manifest of "${group.basic}/busybox:latest": access not authorized (HTTP 401)`);
    expect(err.hint).toContain(`kitbuild login ${group.basic}`);
  });

  test("pull and push with the right credentials", async () => {
    expect((await pullBusybox(testClient(good), group.basic)).length).toBe(2);
    const digest = await pushSmallImage(testClient(good), group.basic, "team/app");
    const back = await getManifest(testClient(good), parseReference(`${group.basic}/team/app`), "v1", signal());
    expect(back.digest).toBe(digest);
  });

  test("a redirect to blob storage on another host is followed without the credentials", async () => {
    // The storage server reads from the open registry (same storage), so it needs no credentials.
    const proxy = await startFaultProxy(group.basic, group.open);
    try {
      proxy.rules.push({ method: "GET", path: (p) => p.includes("/blobs/"), fault: { kind: "redirect-to-storage" }, times: Infinity });
      expect((await pullBusybox(testClient(good), proxy.addr)).length).toBe(2);
      expect(proxy.seen.filter((r) => r.path.includes("/blobs/")).every((r) => r.authorization)).toBe(true);
      expect(proxy.storageSeen.map((r) => r.authorization)).toEqual([false, false]);
    } finally {
      proxy.stop();
    }
  });

  test("a wrong password is refused, and the error does not contain it", async () => {
    const err = await pushSmallImage(testClient(bad), group.basic, "team/app").catch((e) => e);
    expect(err.code).toBe("E_REGISTRY_UNAUTHORIZED");
    expectNoSecret(err);
  });
});

describe("token mode", () => {
  test("an anonymous token pulls a public repository; one token serves all its requests", async () => {
    const client = testClient();
    const before = group.issuer.requests.length;
    expect((await pullBusybox(client, group.token)).length).toBe(2);
    expect(group.issuer.requests.slice(before)).toEqual([{ method: "GET", scopes: ["repository:busybox:pull"], user: undefined, grant: "anonymous" }]);
  });

  test("pushing needs credentials; with them, push then pull back", async () => {
    const anonymous = await pushSmallImage(testClient(), group.token, "private/app").catch((e) => e);
    expect(anonymous.code).toBe("E_REGISTRY_UNAUTHORIZED");
    const client = testClient(good);
    const digest = await pushSmallImage(client, group.token, "private/app");
    expect((await getManifest(client, parseReference(`${group.token}/private/app`), "v1", signal())).digest).toBe(digest);
    const denied = await getManifest(testClient(), parseReference(`${group.token}/private/app`), "v1", signal()).catch((e) => e);
    expect(denied.code).toBe("E_REGISTRY_UNAUTHORIZED");
  });

  test("a cross-repository mount asks for both scopes in one token", async () => {
    const client = testClient(good);
    const m = JSON.parse(new TextDecoder().decode((await getManifest(client, parseReference(`${group.token}/busybox`), "latest", signal())).bytes)) as Manifest;
    const layer = m.layers[0] as Manifest["layers"][number];
    const before = group.issuer.requests.length;
    const ref = parseReference(`${group.token}/private/mounted`);
    expect(await pushBlob(client, ref, layer, new Blob([new Uint8Array(layer.size)]), { mountFrom: ["busybox"] }, signal())).toBe("mounted");
    const scopes = group.issuer.requests.slice(before).map((r) => r.scopes.sort());
    expect(scopes).toContainEqual(["repository:busybox:pull", "repository:private/mounted:pull,push"]);
  });

  test("wrong credentials: the token service refuses them, and the error does not contain them", async () => {
    const err = await pullBusybox(testClient(bad), group.token).catch((e) => e);
    expect(err.code).toBe("E_REGISTRY_UNAUTHORIZED");
    expect(err.message).toContain(`refused the credentials for "${group.token}"`);
    expectNoSecret(err);
  });

  test("login stores the token service's refresh token as the identity token, which later pulls use", async () => {
    const dir = tempDir("kitbuild-docker-");
    const env = { DOCKER_CONFIG: dir, PATH: process.env.PATH };
    const result = await login({ server: group.token, ...group.user, env, insecureRegistries: [] }, signal());
    expect(result).toEqual({ domain: group.token, stored: "config", configPath: `${dir}/config.json`, identityToken: true });
    const entry = readDockerConfig(`${dir}/config.json`).auths?.[group.token];
    expect(entry?.auth).toBe(Buffer.from(`${group.user.username}:`).toString("base64"));
    expect(typeof entry?.identitytoken).toBe("string");
    const before = group.issuer.requests.length;
    const client = new RegistryClient({ insecureRegistries: [], credentials: dockerConfigCredentials(env) });
    await pushSmallImage(client, group.token, "private/by-identity-token");
    expect(group.issuer.requests.slice(before).map((r) => [r.method, r.grant, r.user])).toEqual([["POST", "refresh_token", group.user.username]]);
  });
});

describe("credentials as docker finds them", () => {
  const configFile = (dir: string, config: unknown) => writeFileSync(`${dir}/config.json`, JSON.stringify(config));

  test("config.json auths, under the host or a URL naming it", async () => {
    for (const key of [group.basic, `http://${group.basic}/v2/`]) {
      const dir = tempDir("kitbuild-docker-");
      configFile(dir, { auths: { [key]: { auth: Buffer.from(`${group.user.username}:${group.user.password}`).toString("base64") } } });
      const client = new RegistryClient({ insecureRegistries: [], credentials: dockerConfigCredentials({ DOCKER_CONFIG: dir }) });
      expect((await pullBusybox(client, group.basic)).length).toBe(2);
    }
  });

  test("a credHelper for the host, and a credsStore", async () => {
    const dir = tempDir("kitbuild-docker-");
    const helper = installTestHelper(dir);
    helperHas(helper, group.basic, group.user.username, group.user.password);
    const env = { DOCKER_CONFIG: dir, PATH: `${helper.binDir}:${process.env.PATH}` };
    for (const config of [{ credHelpers: { [group.basic]: helper.name } }, { credsStore: helper.name }]) {
      configFile(dir, config);
      const client = new RegistryClient({ insecureRegistries: [], credentials: dockerConfigCredentials(env) });
      expect((await pullBusybox(client, group.basic)).length).toBe(2);
    }
  });

  test("a helper that is not installed, or that fails, is a clear error without its output", async () => {
    const dir = tempDir("kitbuild-docker-");
    configFile(dir, { credsStore: "nosuchhelper" });
    const missing = await pullBusybox(new RegistryClient({ insecureRegistries: [], credentials: dockerConfigCredentials({ DOCKER_CONFIG: dir, PATH: "/usr/bin:/bin" }) }), group.basic).catch((e) => e);
    expect(missing.code).toBe("E_REGISTRY_CREDENTIALS");
    expect(missing.message).toBe('credential helper "docker-credential-nosuchhelper" was not found');
    const helper = installTestHelper(dir, "broken");
    writeFileSync(`${helper.binDir}/docker-credential-broken`, `#!/bin/sh\necho "${group.user.password}"\nexit 3\n`);
    configFile(dir, { credsStore: "broken" });
    const env = { DOCKER_CONFIG: dir, PATH: `${helper.binDir}:/usr/bin:/bin` };
    const failed = await pullBusybox(new RegistryClient({ insecureRegistries: [], credentials: dockerConfigCredentials(env) }), group.basic).catch((e) => e);
    expect(failed.code).toBe("E_REGISTRY_CREDENTIALS");
    expect(failed.message).toBe('credential helper "docker-credential-broken" failed to get credentials (exit status 3)');
    expectNoSecret(failed);
  });
});

describe("token scopes", () => {
  test("scopes of one resource merge into one with the union of its actions", () => {
    expect(mergeScopes(["repository:a:pull", "repository:a:push,pull", "repository:b:pull", "registry:catalog:*"])).toEqual([
      "repository:a:pull,push",
      "repository:b:pull",
      "registry:catalog:*",
    ]);
  });
});
