// `kitbuild login` and `logout` (compiled binary) against the real docker-registry: the docker
// config is written exactly as docker login writes it, credentials are checked before they are
// saved, a credential store is used when configured, and passwords never appear in the output.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { installTestHelper } from "../fixtures/credential-helper.ts";
import { startRegistryGroup, type RegistryGroup } from "../fixtures/registries.ts";
import { BINARY, runKitbuild, tempDir, expectExit } from "../harness.ts";

let group: RegistryGroup;
beforeAll(async () => {
  group = await startRegistryGroup();
});
afterAll(async () => group?.stop());

/** Runs `cmd`, typing each answer once the output shows its prompt (as a person at a terminal would). */
async function converse(cmd: string[], answers: Array<[prompt: string, answer: string]>): Promise<{ code: number; text: string }> {
  const proc = Bun.spawn(cmd, { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH, NO_COLOR: "1" } });
  let text = "";
  const pending = [...answers];
  const errText = new Response(proc.stderr).text();
  for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
    text += new TextDecoder().decode(chunk);
    while (pending[0] && text.includes(pending[0][0])) {
      text = text.replace(pending[0][0], `<${pending[0][0].trim()}>`);
      proc.stdin.write(`${(pending.shift() as [string, string])[1]}\r`);
      await proc.stdin.flush();
    }
  }
  return { code: await proc.exited, text: text + (await errText) };
}

const kitbuild = (args: string[], dockerConfig: string, stdin?: string, extraPath?: string) =>
  runKitbuild(args, { stdin, env: { DOCKER_CONFIG: dockerConfig, ...(extraPath ? { PATH: `${extraPath}:${process.env.PATH}` } : {}) } });

describe("kitbuild login / logout", () => {
  test("login with --password-stdin writes auths as docker does; logout removes it", async () => {
    const dir = tempDir("kitbuild-docker-");
    const res = await kitbuild(["login", "-u", group.user.username, "--password-stdin", group.basic], dir, `${group.user.password}\n`);
    expect(res.stderr).toContain("Login Succeeded");
    expectExit(res, 0);
    // What `docker login` (docker CLI 28) wrote for the same registry and user: tabs, no final newline.
    const auth = Buffer.from(`${group.user.username}:${group.user.password}`).toString("base64");
    expect(readFileSync(`${dir}/config.json`, "utf8")).toBe(`{\n\t"auths": {\n\t\t"${group.basic}": {\n\t\t\t"auth": "${auth}"\n\t\t}\n\t}\n}`);
    expect(statSync(`${dir}/config.json`).mode & 0o777).toBe(0o600);
    expect(res.stderr + res.stdout).not.toContain(group.user.password);
    const out = await kitbuild(["logout", group.basic], dir);
    expectExit(out, 0);
    expect(out.stderr).toBe(`Removing login credentials for ${group.basic}\n`);
    expect(JSON.parse(readFileSync(`${dir}/config.json`, "utf8"))).toEqual({ auths: {} });
    const again = await kitbuild(["logout", group.basic], dir);
    expect(again.stderr).toBe(`Not logged in to ${group.basic}\n`);
  });

  test("a refused password saves nothing and is not echoed", async () => {
    const dir = tempDir("kitbuild-docker-");
    const wrong = `wrong-${group.user.password}`;
    for (const server of [group.basic, group.token]) {
      const res = await kitbuild(["login", "-u", group.user.username, "--password-stdin", server], dir, wrong);
      expectExit(res, 1);
      expect(res.stderr).toContain(`ERROR: login to "${server}" failed: the username or password was refused`);
      expect(res.stderr).not.toContain(wrong);
    }
    expect(existsSync(`${dir}/config.json`)).toBe(false);
  });

  test("a token registry's refresh token is saved as the identity token, as docker does", async () => {
    const dir = tempDir("kitbuild-docker-");
    const res = await kitbuild(["login", "-u", group.user.username, "--password-stdin", `http://${group.token}/`], dir, group.user.password);
    expectExit(res, 0);
    const entry = JSON.parse(readFileSync(`${dir}/config.json`, "utf8")).auths[group.token];
    expect(entry.auth).toBe(Buffer.from(`${group.user.username}:`).toString("base64"));
    expect(entry.identitytoken).toMatch(/\S/);
    expect(readFileSync(`${dir}/config.json`, "utf8")).not.toContain(group.user.password);
  });

  test("with a credsStore the helper keeps the password and the config only names the registry", async () => {
    const dir = tempDir("kitbuild-docker-");
    const helper = installTestHelper(dir);
    writeFileSync(`${dir}/config.json`, JSON.stringify({ credsStore: helper.name, experimental: "enabled" }));
    const res = await kitbuild(["login", "-u", group.user.username, "--password-stdin", group.basic], dir, group.user.password, helper.binDir);
    expectExit(res, 0);
    const config = JSON.parse(readFileSync(`${dir}/config.json`, "utf8"));
    expect(config).toEqual({ credsStore: helper.name, experimental: "enabled", auths: { [group.basic]: {} } });
    const stored = JSON.parse(readFileSync(`${helper.storeDir}/${group.basic.replace(/[^A-Za-z0-9.]/g, "_")}`, "utf8"));
    expect(stored).toEqual({ ServerURL: group.basic, Username: group.user.username, Secret: group.user.password });
    const out = await kitbuild(["logout", group.basic], dir, undefined, helper.binDir);
    expect(out.stderr).toBe(`Removing login credentials for ${group.basic}\n`);
    expect(existsSync(`${helper.storeDir}/${group.basic.replace(/[^A-Za-z0-9.]/g, "_")}`)).toBe(false);
  });

  test("at a terminal, the username and password are asked for", async () => {
    const dir = tempDir("kitbuild-docker-");
    // script(1) gives the binary a terminal; what it reads comes from script's stdin.
    const cmd = `DOCKER_CONFIG=${dir} ${BINARY} login ${group.basic}`;
    const res = await converse(["script", "-qec", cmd, "/dev/null"], [["Username: ", group.user.username], ["Password: ", group.user.password]]);
    expect(res.text).toContain(`<Username:>${group.user.username}`);
    // The password is read with echo off.
    expect(res.text).not.toContain(group.user.password);
    expect(res.text).toContain("Login Succeeded");
    expectExit(res, 0);
    expect(JSON.parse(readFileSync(`${dir}/config.json`, "utf8")).auths[group.basic].auth).toBe(Buffer.from(`${group.user.username}:${group.user.password}`).toString("base64"));
  });

  test("-p works with docker's warning; without a terminal to ask, no password is a usage error", async () => {
    const dir = tempDir("kitbuild-docker-");
    const res = await kitbuild(["login", "-u", group.user.username, "-p", group.user.password, group.basic], dir);
    expectExit(res, 0);
    expect(res.stderr).toContain("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    const none = await kitbuild(["login", "-u", group.user.username, group.basic], dir);
    expectExit(none, 2);
    expect(none.stderr).toContain("ERROR: cannot ask for a username or password: stdin is not a terminal\nhint: pass -u USERNAME and the password with --password-stdin");
  });
});
