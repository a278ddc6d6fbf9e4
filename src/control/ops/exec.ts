// Runs exec ops (RUN) with runc on a fresh snapshot of the root input, and commits the result.
import { mkdirSync, rmSync } from "node:fs";
import { digestOf } from "../../llb/digest.ts";
import type { ExecOp } from "../../llb/ops.ts";
import type { OpRunner } from "../../solver/vertex.ts";
import { mkdirInRoot } from "../../file/copy.ts";
import { KitError } from "../../util/errors.ts";
import { writeEtcFiles, DEFAULT_HOSTNAME } from "../../worker/runc/etc-files.ts";
import { ETC_MOUNT_TARGETS, recordMountStubs } from "../../worker/runc/mount-stubs.ts";
import { runContainer } from "../../worker/runc/run.ts";
import { runtimeSpec } from "../../worker/runc/spec.ts";
import { resolveUser } from "../../worker/runc/user.ts";
import { type BuildRef, snapshotIdOf, snapshotRef } from "../refs.ts";
import type { BuildSession } from "../session.ts";

let containers = 0;

/** The step's environment: its own, the proxy variables, and HOME from /etc/passwd when unset. */
function runEnv(meta: ExecOp["meta"], home: string): string[] {
  const env = [...meta.env, ...Object.entries(meta.proxyEnv ?? {}).map(([k, v]) => `${k}=${v}`)];
  return env.some((e) => e.startsWith("HOME=")) ? env : [...env, `HOME=${home}`];
}

export function execRunner(session: BuildSession, op: ExecOp): OpRunner<BuildRef> {
  return {
    async cacheMap() {
      // Proxy variables reach the step but never its cache key (as in BuildKit).
      return { digest: digestOf({ ...op, meta: { ...op.meta, proxyEnv: undefined } }), deps: [], cacheable: true };
    },
    async exec(inputs, ctx) {
      const rootMount = op.mounts[0];
      if (!rootMount || rootMount.dest !== "/") throw new KitError("E_INTERNAL", "exec op has no root mount");
      if (op.mounts.length > 1) throw new KitError("E_RUN_UNSUPPORTED", "extra RUN mounts are not supported yet");
      if (op.secretEnv?.length) throw new KitError("E_RUN_UNSUPPORTED", "secrets as environment variables are not supported yet");
      const rootRef = rootMount.input >= 0 ? inputs[rootMount.input] : undefined;
      const base = rootRef ? snapshotIdOf(rootRef) : null;
      const runc = session.env.runc();
      const id = `kitbuild-${process.pid}-${++containers}`;
      const stateDir = `${session.env.root}/executor/${id}`;
      mkdirSync(stateDir, { recursive: true, mode: 0o711 });
      try {
        await using active = await session.env.snapshotter.prepare(base, "exec");
        let exitCode: number;
        let tail: string[];
        {
          await using rootfs = await active.mount();
          const user = resolveUser(rootfs.path, op.meta.user);
          mkdirInRoot(rootfs.path, op.meta.cwd, { uid: user.uid, gid: user.gid });
          const cleanStubs = recordMountStubs(rootfs.path, ETC_MOUNT_TARGETS);
          try {
            const hostname = op.meta.hostname ?? DEFAULT_HOSTNAME;
            const env = runEnv(op.meta, user.home);
            const spec = runtimeSpec({
              rootfs: rootfs.path, args: op.meta.args, env, cwd: op.meta.cwd, user, hostname, network: op.network,
              etcFiles: writeEtcFiles(stateDir, hostname, op.network), mounts: [],
            });
            ({ exitCode, tail } = await runContainer({ runc, id, bundle: stateDir, spec, progress: ctx.progress, signal: ctx.signal }));
          } finally {
            cleanStubs();
          }
        }
        if (exitCode !== 0) {
          throw new KitError("E_RUN_FAILED", `process "${op.meta.args.join(" ")}" did not complete successfully: exit code: ${exitCode}`, {
            details: tail,
            hint: "the command failed inside the build container; its last output is shown above",
          });
        }
        return [snapshotRef(await active.commit())];
      } finally {
        rmSync(stateDir, { recursive: true, force: true });
      }
    },
  };
}
