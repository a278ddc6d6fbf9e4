// Runs exec ops (RUN): the entitlements checked, the mounts made from the inputs, the step's
// environment decided (its own variables, proxies, SSH_AUTH_SOCK, secret variables), the process
// handed to the build environment's executor, and the outputs committed.
import type { Definition, ExecOp } from "../../llb/ops.ts";
import type { ExecContext, OpRunner } from "../../solver/vertex.ts";
import { KitError } from "../../util/errors.ts";
import type { Mount, ProcessMeta } from "../../worker/executor.ts";
import { type Entitlement, entitlementError, type ExecServices } from "../../worker/session/exec-services.ts";
import type { BuildRef } from "../refs.ts";
import type { BuildSession } from "../session.ts";
import { type ContextInputs, execCacheDeps, execCacheDigest } from "./cache-digest.ts";
import { missingSecret, prepareMounts } from "./exec-mounts.ts";
import { checksumTree } from "./file.ts";

export function execRunner(session: BuildSession, op: ExecOp, contextInputs: ContextInputs): OpRunner<BuildRef> {
  return {
    async cacheMap() {
      // Proxy variables and default cache ids stay out of the key; context binds are keyed by
      // the checksum of exactly what they mount.
      return { digest: execCacheDigest(op), deps: execCacheDeps(op, contextInputs, (ref) => checksumTree(ref, session)), cacheable: true };
    },
    exec: (inputs, ctx) => runExec(session, op, inputs, ctx),
    // A sandboxed step's network is made while its inputs are (the base image pulled, the COPY before it).
    willExec: () => {
      if (op.network === "sandbox" && !deniedBy(op, session.exec)) session.env.executor.expectSandboxedStep();
    },
  };
}

async function runExec(session: BuildSession, op: ExecOp, inputs: BuildRef[], ctx: ExecContext): Promise<BuildRef[]> {
  const denied = deniedBy(op, session.exec);
  if (denied) throw entitlementError(denied);
  session.env.executor.prepare();
  await using mounts = await prepareMounts({
    session, op, inputs, signal: ctx.signal,
    onCacheWait: (cacheId) => ctx.progress.status(`waiting for the locked cache mount "${cacheId}"`, 0),
  });
  const outcome = await session.env.executor.run({
    rootfs: mounts.rootfs, readonlyRoot: mounts.readonlyRoot, process: processMeta(session, op, mounts.mounts), mounts: mounts.mounts,
    progress: ctx.progress, signal: ctx.signal,
    moreSandboxedSteps: ctx.othersPending((v) => v.vertex.op.kind === "exec" && v.vertex.op.network === "sandbox"),
  });
  if (outcome.exitCode !== 0) {
    throw new KitError("E_RUN_FAILED", `process "${op.meta.args.join(" ")}" did not complete successfully: exit code: ${outcome.exitCode}`, {
      details: outcome.tail,
      hint: "the command failed inside the build container; its last output is shown above",
    });
  }
  return await mounts.finish();
}

function processMeta(session: BuildSession, op: ExecOp, mounts: Mount[]): ProcessMeta {
  const env = [...op.meta.env, ...Object.entries(op.meta.proxyEnv ?? {}).map(([k, v]) => `${k}=${v}`)];
  return {
    args: op.meta.args, env, sessionEnv: sessionEnv(session, op, env, mounts), cwd: op.meta.cwd, user: op.meta.user,
    hostname: op.meta.hostname, network: op.network, security: op.security,
    hostNetworkAllowed: session.exec.allows("network.host"), extraHosts: op.meta.extraHosts ?? [],
    ulimits: op.meta.ulimits ?? [], ...(op.meta.shmSize ? { shmSize: op.meta.shmSize } : {}),
    ...(op.platform ? { platform: op.platform } : {}),
  };
}

/**
 * What the session adds to the step's environment (after the executor's PATH and HOME):
 * SSH_AUTH_SOCK for the first ssh mount, then the secrets exposed as variables (last, so they win).
 */
function sessionEnv(session: BuildSession, op: ExecOp, env: string[], mounts: Mount[]): string[] {
  const out: string[] = [];
  const ssh = mounts.find((m) => m.kind === "ssh");
  if (ssh && !env.some((e) => e.startsWith("SSH_AUTH_SOCK="))) out.push(`SSH_AUTH_SOCK=${ssh.dest}`);
  for (const s of op.secretEnv ?? []) {
    const value = session.exec.secrets.get(s.id);
    if (value === undefined) {
      if (s.optional) continue;
      throw missingSecret(s.id);
    }
    out.push(`${s.name}=${new TextDecoder().decode(value)}`);
  }
  return out;
}

/** The entitlement an exec op needs and the build was not granted (RUN --security=insecure, --network=host). */
function deniedBy(op: ExecOp, exec: ExecServices): Entitlement | undefined {
  if (op.security === "insecure" && !exec.allows("security.insecure")) return "security.insecure";
  if (op.network === "host" && !exec.allows("network.host")) return "network.host";
  return undefined;
}

/** The first exec op that needs an entitlement the build was not granted (checked before solving). */
export function deniedEntitlement(def: Definition, exec: ExecServices): { digest: string; error: KitError } | undefined {
  for (const { digest, vertex } of def.vertices) {
    const denied = vertex.op.kind === "exec" ? deniedBy(vertex.op, exec) : undefined;
    if (denied) return { digest, error: entitlementError(denied) };
  }
  return undefined;
}
