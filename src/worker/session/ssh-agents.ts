// The ssh agents a build may forward (--ssh default | --ssh ID=SOCKET | --ssh ID=KEY[,KEY…]): an
// agent socket is used as it is; for key files an ssh-agent of this build's own is started on first
// use, the keys added, and the agent stopped when the build ends.
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { sleep } from "../../util/abort.ts";
import { KitError, errnoCode } from "../../util/errors.ts";
import type { HelperTracker } from "../executor.ts";

export type SshSource = { id: string; paths: string[] };

const DEFAULT_SSH_ID = "default";

type Agent = { kind: "socket"; path: string } | { kind: "keys"; keys: string[]; started?: Promise<string> };

export type SshAgentOptions = { env: Record<string, string | undefined> };

export class SshAgents implements AsyncDisposable {
  private readonly agents = new Map<string, Agent>();
  private readonly processes: Array<{ pid?: number; stop(): Promise<void>; helpers: HelperTracker }> = [];
  private readonly dirs: string[] = [];

  /** Checks every source now: a missing socket or key fails the build before any step runs. */
  constructor(
    sources: readonly SshSource[],
    private readonly opts: SshAgentOptions,
  ) {
    for (const s of sources) {
      const id = s.id || DEFAULT_SSH_ID;
      if (this.agents.has(id)) throw usage(`duplicate ssh agent id "${id}"`, "give each --ssh its own id");
      this.agents.set(id, classify(id, s.paths, opts.env));
    }
  }

  has(id: string): boolean {
    return this.agents.has(id);
  }

  /**
   * The agent socket for `id`, starting an agent with the keys when the source is key files; the
   * agent's process is reported to `helpers` so that it is stopped even if kitbuild is killed.
   */
  async socketFor(id: string, signal: AbortSignal, helpers: HelperTracker): Promise<string> {
    const agent = this.agents.get(id);
    if (!agent) throw new KitError("E_INTERNAL", `no ssh agent "${id}"`);
    if (agent.kind === "socket") return agent.path;
    agent.started ??= this.startAgent(agent.keys, signal, helpers);
    return agent.started;
  }

  private async startAgent(keys: string[], signal: AbortSignal, helpers: HelperTracker): Promise<string> {
    const sshAgent = Bun.which("ssh-agent");
    const sshAdd = Bun.which("ssh-add");
    if (!sshAgent || !sshAdd) {
      throw new KitError("E_RUN_SSH", "ssh-agent was not found, and --ssh was given key files", {
        hint: "install it (Debian/Ubuntu: apt-get install openssh-client) or pass an agent socket (--ssh default)",
      });
    }
    const dir = mkdtempSync(`${tmpdir()}/kitbuild-ssh-`);
    this.dirs.push(dir);
    helpers.tempDir(dir);
    const socket = `${dir}/agent.sock`;
    const child = spawn(sshAgent, ["-D", "-a", socket], { stdio: "ignore", detached: true });
    const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", () => resolve())));
    this.processes.push({ pid: child.pid, stop: () => (child.kill(), exited), helpers });
    if (child.pid) helpers.started(child.pid);
    await waitForSocket(socket, child, signal);
    const res = spawnSync(sshAdd, ["-q", ...keys], {
      env: { PATH: this.opts.env.PATH, SSH_AUTH_SOCK: socket, SSH_ASKPASS_REQUIRE: "never" },
      stdio: ["ignore", "ignore", "pipe"],
      encoding: "utf8",
      timeout: 10_000,
    });
    if (res.status !== 0) {
      throw new KitError("E_RUN_SSH", `cannot load the ssh key "${keys.join(", ")}": ${res.stderr.trim() || `ssh-add exited with ${res.status}`}`, {
        hint: "kitbuild cannot ask for a passphrase: use a key without one, or load it into your agent and pass --ssh default",
      });
    }
    return socket;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const p of this.processes.splice(0)) {
      await p.stop();
      if (p.pid) p.helpers.ended(p.pid);
    }
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

function classify(id: string, paths: string[], env: Record<string, string | undefined>): Agent {
  const given = paths.filter((p) => p !== "");
  if (given.length === 0) {
    const sock = env.SSH_AUTH_SOCK;
    if (!sock) throw usage(`--ssh "${id}" has no agent: SSH_AUTH_SOCK is not set`, "start an agent (eval $(ssh-agent); ssh-add) or pass --ssh ID=SOCKET|KEYFILE");
    given.push(sock);
  }
  const kinds = given.map((p) => statKind(id, p));
  const sockets = given.filter((_, i) => kinds[i] === "socket");
  if (sockets.length > 1) throw usage(`--ssh "${id}" names more than one agent socket`, "give one socket, or key files");
  if (sockets.length === 1 && given.length > 1) throw usage(`--ssh "${id}" mixes an agent socket and key files`, "give one socket, or key files");
  return sockets.length === 1 ? { kind: "socket", path: sockets[0] as string } : { kind: "keys", keys: given };
}

function statKind(id: string, path: string): "socket" | "key" {
  try {
    if (statSync(path).isSocket()) return "socket";
    accessSync(path, constants.R_OK);
    return "key";
  } catch (e) {
    throw usage(`--ssh "${id}": cannot use "${path}": ${errnoCode(e) === "ENOENT" ? "no such file or socket" : errnoCode(e) ?? "error"}`, "pass an agent socket or a private key file");
  }
}

async function waitForSocket(path: string, child: ReturnType<typeof spawn>, signal: AbortSignal): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) break;
    try {
      if (statSync(path).isSocket()) return;
    } catch {
      // not there yet
    }
    await sleep(10, signal);
  }
  throw new KitError("E_RUN_SSH", "ssh-agent did not start", { hint: "run ssh-agent -D -a /tmp/test.sock yourself to see why" });
}

function usage(message: string, hint: string): KitError {
  return new KitError("E_USAGE", message, { hint });
}
