// RUN --mount as exec-op mounts, as BuildKit lays them out: bind, cache and tmpfs mounts sorted by
// target, then secrets, then ssh sockets; the build context, a stage or an image as the source; a
// cache's owner and mode set by a small mkdir op; secrets also as environment variables.
import { node, output, type Output } from "../../../llb/builder.ts";
import type { CacheSharing, ExecMount, ExecOp, FileOp } from "../../../llb/ops.ts";
import { MountError, parseMount, type RunMount } from "../instructions/mount.ts";
import type { RunCommand } from "../instructions/types.ts";
import type { DispatchContext } from "./dispatch-context.ts";
import { cleanPath, rootJoin } from "./paths.ts";
import { inputIndex, type StageState } from "./state.ts";

/** A mount whose input is still a graph output (undefined: scratch), not yet an input index. */
export type PendingMount = Omit<ExecMount, "input"> & { source: Output | undefined };

export type RunMounts = {
  mounts: PendingMount[];
  secretEnv: NonNullable<ExecOp["secretEnv"]>;
  /** The first ssh socket's path, for SSH_AUTH_SOCK. */
  sshSocket: string | undefined;
};

/**
 * Parses each --mount with the step's environment and turns it into exec mounts; `extra` (a heredoc
 * script's mount) is sorted in with the filesystem mounts.
 */
export function runMounts(
  s: StageState, c: RunCommand, sources: readonly StageState[], expand: (w: string) => string, ctx: DispatchContext, extra: PendingMount[],
): RunMounts {
  const regular: PendingMount[] = [...extra];
  const secrets: PendingMount[] = [];
  const ssh: PendingMount[] = [];
  const secretEnv: RunMounts["secretEnv"] = [];
  c.mounts.forEach((raw, i) => {
    const m = parseMount(raw, expand);
    if (m.type === "secret") return secretMount(m, secrets, secretEnv);
    if (m.type === "ssh") return sshMount(m, ssh);
    regular.push(fsMount(s, m, sources[i], ctx));
  });
  regular.sort((a, b) => (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));
  ssh.forEach((m, i) => {
    if (m.dest === "") m.dest = `/run/buildkit/ssh_agent.${i}`;
  });
  return { mounts: [...regular, ...secrets, ...ssh], secretEnv, sshSocket: ssh[0]?.dest };
}

function fsMount(s: StageState, m: RunMount, from: StageState | undefined, ctx: DispatchContext): PendingMount {
  let source: Output | undefined;
  if (m.type === "cache" && m.from === "") {
    source = undefined;
  } else if (m.from !== "") {
    if (!from?.dispatched) {
      throw new MountError(`cannot mount from stage "${m.from}" to "${m.target}", stage needs to be defined before current command`, "move the stage above this one");
    }
    source = from.output;
  } else if (m.type !== "tmpfs") {
    source = ctx.buildContext();
  }
  if (m.type === "tmpfs") source = undefined;
  let dest = m.target;
  if (!cleanPath(dest).startsWith("/")) dest = cleanPath(`/${s.workdir}/${dest}`);
  if (dest === "/") throw new MountError(`invalid mount target "${dest}"`, "mount somewhere below /, e.g. target=/cache");
  const pending: PendingMount = { type: m.type, dest, source, output: -1, readonly: m.readonly };
  if (m.type === "cache") {
    const sharing: CacheSharing = m.sharing || "shared";
    pending.cache = { id: m.id || cleanPath(m.target), sharing };
  }
  if (m.type === "tmpfs") pending.tmpfs = { size: m.sizeLimit };
  const selector = rootJoin(m.source);
  if (selector !== "/") {
    pending.selector = selector;
  } else if (m.uid !== undefined || m.gid !== undefined || m.mode !== undefined) {
    pending.source = cacheOwnerOp(m, pending.source);
    pending.selector = "/cache";
  }
  if (m.from === "") s.ctxPaths.add(selector);
  return pending;
}

/** A directory owned and moded as the mount asks, for a cache (or bind) mount to start from. */
function cacheOwnerOp(m: RunMount, base: Output | undefined): Output {
  const op: FileOp = {
    kind: "file",
    base: base ? 0 : -1,
    actions: [{ action: "mkdir", path: "/cache", mode: (m.mode ?? 0o755) & 0o777, makeParents: false, owner: { user: m.uid ?? 0, group: m.gid ?? 0 } }],
  };
  return output(node(op, base ? [base] : [], { name: "[internal] setting cache mount permissions" }));
}

function secretMount(m: RunMount, mounts: PendingMount[], env: RunMounts["secretEnv"]): void {
  let id = m.source !== "" ? m.source : m.id;
  if (id === "") {
    if (m.target === "") throw new MountError("one of source, target required");
    id = basename(m.target);
  }
  const optional = !m.required;
  let target: string | undefined = m.target || undefined;
  if (m.env === undefined) target = m.target || `/run/secrets/${basename(id)}`;
  else env.push({ id, name: m.env || id, optional });
  if (target === undefined) return;
  mounts.push({
    type: "secret", dest: target, source: undefined, output: -1, readonly: true,
    secret: { id, uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o400, optional },
  });
}

function sshMount(m: RunMount, mounts: PendingMount[]): void {
  if (m.source !== "") throw new MountError("ssh does not support source", "name the agent socket with id=ID");
  mounts.push({
    type: "ssh", dest: m.target, source: undefined, output: -1, readonly: true,
    ssh: { id: m.id || "default", uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o600, optional: !m.required },
  });
}

function basename(p: string): string {
  const c = cleanPath(p);
  return c === "/" ? "/" : (c.split("/").at(-1) as string);
}

/** Turns pending mounts into exec mounts, adding each distinct source to `inputs` once. */
export function bindInputs(mounts: readonly PendingMount[], inputs: Output[]): ExecMount[] {
  return mounts.map(({ source, ...m }) => ({ ...m, input: source ? inputIndex(inputs, source) : -1 }));
}
