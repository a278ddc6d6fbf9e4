// Runs exec ops (RUN) with runc: the mounts made from the inputs, the user resolved in the root
// filesystem, the environment completed (PATH, HOME, proxies, SSH_AUTH_SOCK, secret variables), the
// container run in a tmpfs state directory, and the outputs committed. Mount points created only
// for the step are removed again, so they leave no trace in its layer.
import type { Definition, ExecOp } from "../../llb/ops.ts";
import type { ExecContext, OpRunner } from "../../solver/vertex.ts";
import { mkdirInRoot } from "../../fs/mkdir-in-root.ts";
import { KitError } from "../../util/errors.ts";
import { writeEtcFiles, DEFAULT_HOSTNAME } from "../../worker/runc/etc-files.ts";
import { entitlementError, type ExecServices } from "../../worker/runc/exec-services.ts";
import { ETC_MOUNT_TARGETS, recordMountStubs } from "../../worker/runc/mount-stubs.ts";
import { ensureReaper } from "../../worker/runc/reaper.ts";
import { runContainer } from "../../worker/runc/run.ts";
import { runtimeSpec } from "../../worker/runc/spec.ts";
import { openStepDir } from "../../worker/runc/step-dir.ts";
import { resolveUser } from "../../worker/runc/user.ts";
import type { BuildRef } from "../refs.ts";
import type { BuildSession } from "../session.ts";
import { type ContextInputs, execCacheDeps, execCacheDigest } from "./cache-digest.ts";
import { missingSecret, prepareMounts } from "./exec-mounts.ts";
import { checksumTree } from "./file.ts";

let containers = 0;

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function execRunner(session: BuildSession, op: ExecOp, contextInputs: ContextInputs): OpRunner<BuildRef> {
  return {
    async cacheMap() {
      // Proxy variables and default cache ids stay out of the key; context binds are keyed by
      // the checksum of exactly what they mount.
      return { digest: execCacheDigest(op), deps: execCacheDeps(op, contextInputs, (ref) => checksumTree(ref, session)), cacheable: true };
    },
    exec: (inputs, ctx) => runExec(session, op, inputs, ctx),
  };
}

async function runExec(session: BuildSession, op: ExecOp, inputs: BuildRef[], ctx: ExecContext): Promise<BuildRef[]> {
  if (op.security === "insecure" && !session.exec.allows("security.insecure")) throw entitlementError("security.insecure");
  const runc = session.env.runc();
  const helpers = ensureReaper(runc, session.env.root);
  const id = `kitbuild-${process.pid}-${++containers}`;
  await using step = openStepDir(session.env.root, id);
  await using mounts = await prepareMounts({
    session, op, inputs, stepDir: step.path, helpers, signal: ctx.signal,
    onCacheWait: (cacheId) => ctx.progress.status(`waiting for the locked cache mount "${cacheId}"`, 0),
  });
  // Recorded before anything is created for the step (the working directory included), as BuildKit.
  const cleanStubs = recordMountStubs(mounts.rootfs, [...ETC_MOUNT_TARGETS, ...mounts.oci.map((m) => m.destination)]);
  let outcome: Awaited<ReturnType<typeof runContainer>>;
  try {
    const user = resolveUser(mounts.rootfs, op.meta.user);
    mkdirInRoot(mounts.rootfs, op.meta.cwd, { uid: user.uid, gid: user.gid });
    const hostname = op.meta.hostname ?? DEFAULT_HOSTNAME;
    const spec = runtimeSpec({
      rootfs: mounts.rootfs, readonlyRoot: mounts.readonlyRoot, args: op.meta.args, cwd: op.meta.cwd, user, hostname,
      env: stepEnv(session, op, user.home, mounts.sshSockets), network: op.network, security: op.security,
      etcFiles: writeEtcFiles(step.path, hostname, op.network), mounts: mounts.oci,
    });
    outcome = await runContainer({
      runc, id, bundle: step.path, spec, progress: ctx.progress, logLimits: session.exec.logLimits, helpers, signal: ctx.signal,
    });
  } finally {
    cleanStubs();
  }
  if (outcome.exitCode !== 0) {
    throw new KitError("E_RUN_FAILED", `process "${op.meta.args.join(" ")}" did not complete successfully: exit code: ${outcome.exitCode}`, {
      details: outcome.tail,
      hint: "the command failed inside the build container; its last output is shown above",
    });
  }
  return await mounts.finish();
}

/**
 * The step's environment: its own, the proxy variables, PATH and HOME when unset, SSH_AUTH_SOCK for
 * the first ssh mount, and the secrets exposed as variables (last, so they win).
 */
function stepEnv(session: BuildSession, op: ExecOp, home: string, sshSockets: string[]): string[] {
  const env = [...op.meta.env, ...Object.entries(op.meta.proxyEnv ?? {}).map(([k, v]) => `${k}=${v}`)];
  const has = (name: string) => env.some((e) => e.startsWith(`${name}=`));
  if (!has("PATH")) env.push(`PATH=${DEFAULT_PATH}`);
  if (!has("HOME")) env.push(`HOME=${home}`);
  if (sshSockets[0] && !has("SSH_AUTH_SOCK")) env.push(`SSH_AUTH_SOCK=${sshSockets[0]}`);
  for (const s of op.secretEnv ?? []) {
    const value = session.exec.secrets.get(s.id);
    if (value === undefined) {
      if (s.optional) continue;
      throw missingSecret(s.id);
    }
    env.push(`${s.name}=${new TextDecoder().decode(value)}`);
  }
  return env;
}

/** The first exec op that needs an entitlement the build was not granted (checked before solving). */
export function deniedEntitlement(def: Definition, exec: ExecServices): { digest: string; error: KitError } | undefined {
  for (const { digest, vertex } of def.vertices) {
    if (vertex.op.kind === "exec" && vertex.op.security === "insecure" && !exec.allows("security.insecure")) {
      return { digest, error: entitlementError("security.insecure") };
    }
  }
  return undefined;
}
