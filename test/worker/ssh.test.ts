// SSH forwarding with a real ssh-agent (Debian's openssh-client): the read-only forwarder on the
// host, the socket a step sees (owner, mode, SSH_AUTH_SOCK), and on the Debian image (made with
// debootstrap; skipped with the reason where that cannot run) `ssh-add -l` inside the step listing
// the key, from the user's agent (--ssh default) and from a key file (--ssh ID=KEYFILE).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { output } from "../../src/llb/builder.ts";
import type { ExecMount } from "../../src/llb/ops.ts";
import { startAgentProxy } from "../../src/worker/runc/ssh-proxy.ts";
import { debianImage } from "../../scripts/test-debian.ts";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, skipBecause, tempDir, testRegistry } from "../harness.ts";
import { image, roots as testRoots, run, solve } from "./graph.ts";

const HAS_SSH = ["ssh-agent", "ssh-add", "ssh-keygen"].every((t) => Bun.which(t) !== null);
const skipSsh = skipBecause(!HAS_SSH, "ssh tests: need ssh-agent, ssh-add and ssh-keygen (apt-get install openssh-client)");
const skipRun = skipSsh || skipBecause(!IS_ROOT || !HAS_RUNC, `ssh tests in a step: ${NEEDS_ROOT_AND_RUNC}`);

const registry = skipRun ? "" : await testRegistry();
const debian = skipRun ? undefined : await debianImage(registry);
const skipDebian = skipRun || skipBecause(debian?.kind !== "ready", `ssh-add inside a step: no Debian image (${debian?.kind === "unavailable" ? debian.reason : "skipped"})`);

const agent = { dir: "", socket: "", key: "", fingerprint: "", pid: 0 };

beforeAll(async () => {
  if (skipSsh) return;
  agent.dir = tempDir("kitbuild-sshtest-");
  agent.key = `${agent.dir}/id_ed25519`;
  agent.socket = `${agent.dir}/agent.sock`;
  expect(spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "kitbuild-test", "-f", agent.key]).status).toBe(0);
  agent.fingerprint = spawnSync("ssh-keygen", ["-l", "-f", `${agent.key}.pub`], { encoding: "utf8" }).stdout.split(" ")[1] ?? "";
  const child = spawn("ssh-agent", ["-D", "-a", agent.socket], { stdio: "ignore" });
  agent.pid = child.pid ?? 0;
  for (let i = 0; i < 200 && !existsSync(agent.socket); i++) await Bun.sleep(10);
  expect((await sshAdd(agent.socket, [agent.key])).status).toBe(0);
});

afterAll(() => {
  if (agent.pid) process.kill(agent.pid);
});

/** ssh-add run asynchronously: the forwarder under test serves it from this process's event loop. */
async function sshAdd(socket: string, args: string[]): Promise<{ status: number; stdout: string }> {
  const p = Bun.spawn(["ssh-add", ...args], { env: { PATH: process.env.PATH, SSH_AUTH_SOCK: socket }, stdin: "ignore", stdout: "pipe", stderr: "ignore" });
  const stdout = await new Response(p.stdout).text();
  return { status: await p.exited, stdout };
}

const roots = () => testRoots("kitbuild-sshrun-");

const sshMount = (dest: string, id = "default", extra: Partial<NonNullable<ExecMount["ssh"]>> = {}): ExecMount => ({
  type: "ssh", dest, input: -1, output: -1, readonly: true,
  ssh: { id, uid: 0, gid: 0, mode: 0o600, optional: false, ...extra },
});

describe.skipIf(skipSsh)("the agent forwarder", () => {
  test("lists and signs through the forwarder, but refuses to change the agent's keys", async () => {
    const listen = `${tempDir("kitbuild-sshproxy-")}/proxy.sock`;
    await using proxy = await startAgentProxy(listen, agent.socket, { uid: 0, gid: 0, mode: 0o600 });
    expect(statSync(proxy.path).mode & 0o777).toBe(0o600);
    const listed = await sshAdd(proxy.path, ["-l"]);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain(agent.fingerprint);
    // Signing goes through the agent when ssh-keygen has only the public key.
    const signDir = tempDir("kitbuild-sshsign-");
    writeFileSync(`${signDir}/key.pub`, readFileSync(`${agent.key}.pub`));
    writeFileSync(`${signDir}/data`, "data\n");
    const sign = Bun.spawn(["ssh-keygen", "-Y", "sign", "-n", "kitbuild", "-f", `${signDir}/key.pub`, `${signDir}/data`], {
      env: { PATH: process.env.PATH, SSH_AUTH_SOCK: proxy.path }, stdout: "ignore", stderr: "ignore",
    });
    expect(await sign.exited).toBe(0);
    expect(readFileSync(`${signDir}/data.sig`, "utf8")).toContain("BEGIN SSH SIGNATURE");
    expect((await sshAdd(proxy.path, ["-D"])).status).not.toBe(0);
    expect((await sshAdd(agent.socket, ["-l"])).stdout).toContain(agent.fingerprint);
  });
});

describe.skipIf(skipRun)("ssh mounts in a step", () => {
  test("the step gets a socket of its own with the mount's owner and mode, and SSH_AUTH_SOCK", async () => {
    const r = roots();
    const step = run(image(`${registry}/busybox:latest`), "stat -c '%a %u %g %F' $SSH_AUTH_SOCK /run/ssh-user > /st; echo $SSH_AUTH_SOCK >> /st", {
      mounts: [sshMount("/run/buildkit/ssh_agent.0"), sshMount("/run/ssh-user", "sock", { uid: 1000, gid: 1000, mode: 0o660 })],
    });
    const ssh = [{ id: "default", paths: [] }, { id: "sock", paths: [agent.socket] }];
    const res = await solve(output(step), { ...r, exportTo: r.out, exec: { ssh }, env: { SSH_AUTH_SOCK: agent.socket } });
    expect(res.error).toBeUndefined();
    expect(readFileSync(`${r.out}/st`, "utf8")).toBe("600 0 0 socket\n660 1000 1000 socket\n/run/buildkit/ssh_agent.0\n");
    expect(existsSync(`${r.out}/run`)).toBe(false);
  });

  test("an ssh mount without a matching --ssh fails the step, unless optional", async () => {
    const r = roots();
    const res = await solve(output(run(image(`${registry}/busybox:latest`), "true", { mounts: [sshMount("/s", "deploy")] })), r);
    expect(String(res.error)).toContain('no ssh agent "deploy" was forwarded to the build');
    const ok = await solve(output(run(image(`${registry}/busybox:latest`), "true", { mounts: [sshMount("/s", "deploy", { optional: true })] })), r);
    expect(ok.error).toBeUndefined();
  });

  test("--ssh with a missing socket or key is refused before the build", async () => {
    const r = roots();
    const res = await solve(image(`${registry}/busybox:latest`), { ...r, exec: { ssh: [{ id: "x", paths: [`${r.work}/nope`] }] } });
    expect(String(res.error)).toContain(`--ssh "x": cannot use "${r.work}/nope": no such file or socket`);
    const unset = await solve(image(`${registry}/busybox:latest`), { ...r, exec: { ssh: [{ id: "default", paths: [] }] } });
    expect(String(unset.error)).toContain("SSH_AUTH_SOCK is not set");
  });
});

describe.skipIf(skipRun)("a build killed while it forwards an agent", () => {
  test("SIGKILL: the ssh-agent it started for a key file is stopped, the container and mounts gone", async () => {
    const r = roots();
    const child = spawn(process.execPath, [`${import.meta.dir}/fixtures/ssh-step.ts`, r.root, r.runcRoot, `${registry}/busybox:latest`, agent.key], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout?.on("data", (d) => (out += d));
    for (let i = 0; i < 1200 && !out.includes("started"); i++) await Bun.sleep(50);
    expect(out).toContain("started");
    expect(agentsStartedByKitbuild().length).toBe(1);
    const agentDir = dirname(agentsStartedByKitbuild()[0]?.split(" ").find((a) => a.includes("/kitbuild-ssh-")) ?? "/nonexistent/x");
    expect(existsSync(agentDir)).toBe(true);
    child.kill("SIGKILL");
    const leftovers = () => [
      ...agentsStartedByKitbuild(),
      ...(existsSync(agentDir) ? [agentDir] : []),
      ...Bun.spawnSync(["runc", "--root", r.runcRoot, "list", "--quiet"]).stdout.toString().split("\n").filter(Boolean),
      ...readFileSync("/proc/mounts", "utf8").split("\n").filter((l) => l.includes(r.root)),
    ];
    for (let i = 0; i < 200 && leftovers().length > 0; i++) await Bun.sleep(50);
    expect(leftovers()).toEqual([]);
  }, 120_000);
});

describe.skipIf(skipDebian)("ssh-add inside a step (Debian image)", () => {
  const debianRef = () => (debian?.kind === "ready" ? debian.ref : "");

  test("--ssh default: the user's agent lists its key inside the step", async () => {
    const r = roots();
    const step = run(image(debianRef()), "ssh-add -l > /keys", { mounts: [sshMount("/run/buildkit/ssh_agent.0")] });
    const res = await solve(output(step), { ...r, exportTo: r.out, exec: { ssh: [{ id: "default", paths: [] }] }, env: { SSH_AUTH_SOCK: agent.socket } });
    expect(res.error).toBeUndefined();
    expect(readFileSync(`${r.out}/keys`, "utf8")).toContain(agent.fingerprint);
  }, 120_000);

  test("--ssh ID=KEYFILE: an agent is started with the key, and stopped after the build", async () => {
    const r = roots();
    const step = run(image(debianRef()), "ssh-add -l > /keys; ssh-add -D 2>/dev/null || echo refused >> /keys", {
      mounts: [sshMount("/run/buildkit/ssh_agent.0", "deploy")],
    });
    const res = await solve(output(step), { ...r, exportTo: r.out, exec: { ssh: [{ id: "deploy", paths: [agent.key] }] } });
    expect(res.error).toBeUndefined();
    const keys = readFileSync(`${r.out}/keys`, "utf8");
    expect(keys).toContain(agent.fingerprint);
    expect(keys).toContain("refused\n");
    expect(agentsStartedByKitbuild()).toEqual([]);
  }, 120_000);
});

/** ssh-agent processes listening in a kitbuild temp dir. */
function agentsStartedByKitbuild(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (cmd[0]?.endsWith("ssh-agent") && cmd.some((a) => a.includes("/kitbuild-ssh-"))) found.push(`${pid} ${cmd.join(" ")}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
