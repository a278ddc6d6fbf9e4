// The ssh agent as a step sees it: a socket of its own (owner and mode as the mount asks) in the
// step's state directory, forwarding each connection to the real agent. Like BuildKit's forwarder
// it is read-only: a step may list keys and sign, but not add, remove or lock keys or call
// extensions; those requests are answered with SSH_AGENT_FAILURE and never reach the agent.
import { chmodSync, chownSync, rmSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { KitError } from "../../util/errors.ts";

/** Requests a step may make: list identities (11), sign (13), unlock (23, as Go's read-only agent). */
const ALLOWED_REQUESTS = new Set([11, 13, 23]);
const AGENT_FAILURE = Buffer.from([0, 0, 0, 1, 5]);
/** OpenSSH's limit on one agent message. */
const MAX_MESSAGE = 256 * 1024;

export type ProxyOptions = { uid: number; gid: number; mode: number };

export type AgentProxy = AsyncDisposable & { readonly path: string };

/** Listens on `path` and forwards to the agent at `agentSocket`. */
export async function startAgentProxy(path: string, agentSocket: string, opts: ProxyOptions): Promise<AgentProxy> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    open.add(client);
    const agent = createConnection(agentSocket);
    open.add(agent);
    const close = () => {
      client.destroy();
      agent.destroy();
      open.delete(client);
      open.delete(agent);
    };
    agent.on("data", (d) => client.write(d));
    client.on("data", requestFilter((frame) => agent.write(frame), (reply) => client.write(reply), close));
    for (const s of [client, agent]) {
      s.on("error", close);
      s.on("close", close);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => reject(new KitError("E_RUN_SSH", `cannot listen on "${path}" for the ssh agent: ${e.message}`, { cause: e })));
    server.listen(path, () => resolve());
  });
  chownSync(path, opts.uid, opts.gid);
  chmodSync(path, opts.mode & 0o777);
  return {
    path,
    [Symbol.asyncDispose]: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(path, { force: true });
    },
  };
}

/** Splits the client's byte stream into agent messages and lets through only the allowed ones. */
function requestFilter(forward: (frame: Buffer) => void, reply: (data: Buffer) => void, fail: () => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const len = pending.readUInt32BE(0);
      if (len === 0 || len > MAX_MESSAGE) return fail();
      if (pending.length < 4 + len) return;
      const frame = pending.subarray(0, 4 + len);
      pending = pending.subarray(4 + len);
      if (ALLOWED_REQUESTS.has(frame[4] as number)) forward(frame);
      else reply(AGENT_FAILURE);
    }
  };
}
