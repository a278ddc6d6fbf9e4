// The mounts of one exec op, made from its inputs as BuildKit makes them: the root filesystem and
// `rw` binds on fresh snapshots (committed when they export an output, discarded otherwise),
// read-only binds on read-only views, the context copied through .dockerignore with owners reset,
// cache mounts from the cache-mount store, tmpfs, secrets (their values) and ssh agents (how to reach
// them), all as executor mounts with host paths. Everything is released when the handle is disposed.
import { lstatSync } from "node:fs";
import { posix } from "node:path";
import { copyInto } from "../../file/copy.ts";
import type { Definition, ExecMount, ExecOp } from "../../llb/ops.ts";
import { isProcessAlive } from "../../util/process.ts";
import type { ActiveSnapshot } from "../../snapshot/snapshotter.ts";
import type { LocalContext } from "../../source/local.ts";
import { copyTree, lstatOrUndefined } from "../../fs/copy-tree.ts";
import { KitError } from "../../util/errors.ts";
import { resolveInRoot } from "../../fs/fs-safe.ts";
import type { HelperTracker, Mount } from "../../worker/executor.ts";
import { type BuildRef, snapshotRef } from "../refs.ts";
import type { BuildSession } from "../session.ts";
import { contextTree } from "./file.ts";

export type PreparedMounts = AsyncDisposable & {
  rootfs: string;
  readonlyRoot: boolean;
  /** The mounts besides the root, in the op's order. */
  mounts: Mount[];
  /** Unmounts the views, commits the mounts that export an output, and returns the outputs. */
  finish(): Promise<BuildRef[]>;
};

export type MountContext = {
  session: BuildSession;
  op: ExecOp;
  inputs: BuildRef[];
  signal: AbortSignal;
  onCacheWait: (id: string) => void;
};

export async function prepareMounts(mc: MountContext): Promise<PreparedMounts> {
  const p = new MountPreparer(mc);
  try {
    for (const [i, m] of mc.op.mounts.entries()) await p.add(m, i);
    return p.result();
  } catch (e) {
    await p[Symbol.asyncDispose]();
    throw e;
  }
}

/**
 * The cache mounts a build must start empty: those of every exec step that ignores the cache
 * (all of them under --no-cache, a stage's under --no-cache-filter), as BuildKit's solver collects
 * them when it loads the graph (moby/buildkit#1092, and #5306 for mounts with mode/uid/gid).
 */
export function cacheMountsToReset(definition: Definition, noCache: boolean): Set<string> {
  const ids = new Set<string>();
  for (const { digest, vertex } of definition.vertices) {
    if (vertex.op.kind !== "exec" || !(noCache || definition.metadata[digest]?.ignoreCache)) continue;
    const op = vertex.op;
    for (const m of op.mounts) if (m.type === "cache") ids.add(cacheMountId(m, mountDest(op, m)));
  }
  return ids;
}

function mountDest(op: ExecOp, m: ExecMount): string {
  return posix.isAbsolute(m.dest) ? posix.normalize(m.dest) : posix.join("/", op.meta.cwd, m.dest);
}

function cacheMountId(m: ExecMount, dest: string): string {
  return m.cache?.id || dest;
}

type Output = () => Promise<BuildRef>;

class MountPreparer implements AsyncDisposable {
  private readonly views = new AsyncDisposableStack();
  private readonly holds = new AsyncDisposableStack();
  private readonly outputs: Output[] = [];
  private readonly mounts: Mount[] = [];
  private rootfs: string | undefined;
  private readonlyRoot = false;

  constructor(private readonly mc: MountContext) {}

  async add(m: ExecMount, index: number): Promise<void> {
    if ((index === 0) !== (m.dest === "/")) throw new KitError("E_INTERNAL", `exec mount ${index} at "${m.dest}": only the first mount is the root`);
    if (index === 0) return this.addRoot(m);
    const dest = mountDest(this.mc.op, m);
    switch (m.type) {
      case "bind":
        return this.addBind(m, dest);
      case "cache":
        return this.addCache(m, dest);
      case "tmpfs":
        this.mounts.push({ kind: "tmpfs", dest, size: m.tmpfs?.size ?? 0, readonly: m.readonly });
        return;
      case "secret":
        return this.addSecret(m, dest);
      case "ssh":
        return this.addSsh(m, dest);
    }
  }

  private input(m: ExecMount): BuildRef | undefined {
    if (m.input < 0) return undefined;
    const ref = this.mc.inputs[m.input];
    if (!ref) throw new KitError("E_INTERNAL", `exec mount "${m.dest}" reads input ${m.input}, which does not exist`);
    return ref;
  }

  private async addRoot(m: ExecMount): Promise<void> {
    if (m.type !== "bind") throw new KitError("E_INTERNAL", `the root mount must be a bind mount, not ${m.type}`);
    const ref = this.input(m);
    if (ref?.kind === "context") throw new KitError("E_INTERNAL", "the build context cannot be a step's root filesystem");
    const active = await this.writable(ref, m.selector);
    this.rootfs = (await this.mountActive(active)).path;
    this.readonlyRoot = m.readonly;
    if (m.output >= 0) this.outputs[m.output] = commitOf(active);
  }

  private async addBind(m: ExecMount, dest: string): Promise<void> {
    const ref = this.input(m);
    const hasData = ref !== undefined && ref.kind !== "scratch";
    let source: string;
    if (m.readonly && hasData) {
      if (m.output >= 0) this.outputs[m.output] = async () => ref;
      source = await this.readonlySource(ref, m.selector);
    } else {
      // A writable copy: committed when it exports an output, otherwise its writes are discarded.
      const active = await this.writable(ref, m.selector);
      source = contextSource((await this.mountActive(active)).path, ref, m.selector);
      if (m.output >= 0) this.outputs[m.output] = commitOf(active);
    }
    if (ref?.kind !== "context") source = selectorPath(source, m.selector, dest);
    this.mounts.push({ kind: "bind", source, dest, readonly: m.readonly });
  }

  private async readonlySource(ref: BuildRef, selector: string | undefined): Promise<string> {
    if (ref.kind === "snapshot") return this.views.use(await this.mc.session.env.snapshotter.mountReadonly(ref.id)).path;
    const active = await this.writable(ref, selector);
    return contextSource((await this.mountActive(active)).path, ref, selector);
  }

  /** A fresh snapshot on the input (the context copied in), removed on dispose unless committed. */
  private async writable(ref: BuildRef | undefined, selector: string | undefined): Promise<ActiveSnapshot> {
    const snapshotter = this.mc.session.env.snapshotter;
    const base = ref?.kind === "snapshot" ? ref.id : null;
    const active = this.holds.use(await snapshotter.prepare(base, "exec"));
    if (ref?.kind === "context") {
      await using view = await active.mount();
      await copyContext(ref.context, selector, view.path, this.mc.signal);
    }
    return active;
  }

  private async mountActive(active: ActiveSnapshot): Promise<{ path: string }> {
    return this.views.use(await active.mount());
  }

  private async addCache(m: ExecMount, dest: string): Promise<void> {
    const ref = this.input(m);
    if (ref?.kind === "context") throw new KitError("E_INTERNAL", `the cache mount at "${dest}" cannot start from the build context`);
    const id = cacheMountId(m, dest);
    const seed = ref?.kind === "snapshot" ? this.cacheSeed(ref.id, m.selector, dest) : undefined;
    const cacheMounts = this.mc.session.exec.cacheMounts(this.mc.session.env, isProcessAlive);
    const lease = this.holds.use(
      await cacheMounts.acquire({ id, sharing: m.cache?.sharing ?? "shared", seed }, this.mc.signal, () => this.mc.onCacheWait(id)),
    );
    this.mounts.push({ kind: "bind", source: lease.path, dest, readonly: m.readonly });
    if (m.output >= 0 && ref) this.outputs[m.output] = async () => ref;
  }

  /** A new cache directory starts as a copy of `from` at `source` (owner and mode included). */
  private cacheSeed(snapshot: number, selector: string | undefined, dest: string) {
    return {
      key: `${snapshot}:${posix.join("/", selector ?? "/")}`,
      fill: async (dir: string) => {
        await using view = await this.mc.session.env.snapshotter.mountReadonly(snapshot);
        const from = selectorPath(view.path, selector, dest);
        await copyTree(from, dir, { preserveOwner: true, xattrs: true, signal: this.mc.signal });
      },
    };
  }

  private addSecret(m: ExecMount, dest: string): void {
    const s = m.secret;
    if (!s) throw new KitError("E_INTERNAL", `secret mount "${dest}" has no secret options`);
    const data = this.mc.session.exec.secrets.get(s.id);
    if (data === undefined) {
      if (s.optional) return;
      throw missingSecret(s.id);
    }
    this.mounts.push({ kind: "secret", dest, data, uid: s.uid, gid: s.gid, mode: s.mode });
  }

  private addSsh(m: ExecMount, dest: string): void {
    const s = m.ssh;
    if (!s) throw new KitError("E_INTERNAL", `ssh mount "${dest}" has no ssh options`);
    const agents = this.mc.session.exec.ssh;
    if (!agents.has(s.id)) {
      if (s.optional) return;
      throw new KitError("E_RUN_SSH", `no ssh agent "${s.id}" was forwarded to the build`, {
        hint: s.id === "default" ? "pass --ssh default (with SSH_AUTH_SOCK set)" : `pass --ssh ${s.id}=SOCKET or --ssh ${s.id}=KEYFILE`,
      });
    }
    // The executor asks for the socket (which may start an agent) when the step runs.
    const agentSocket = (helpers: HelperTracker, signal: AbortSignal) => agents.socketFor(s.id, signal, helpers);
    this.mounts.push({ kind: "ssh", dest, uid: s.uid, gid: s.gid, mode: s.mode, agentSocket });
  }

  result(): PreparedMounts {
    if (this.rootfs === undefined) throw new KitError("E_INTERNAL", "exec op has no root mount");
    return {
      rootfs: this.rootfs,
      readonlyRoot: this.readonlyRoot,
      mounts: this.mounts,
      finish: () => this.finish(),
      [Symbol.asyncDispose]: () => this[Symbol.asyncDispose](),
    };
  }

  private async finish(): Promise<BuildRef[]> {
    await this.views.disposeAsync();
    const refs: BuildRef[] = [];
    for (let i = 0; i < this.outputs.length; i++) {
      const out = this.outputs[i];
      if (!out) throw new KitError("E_INTERNAL", `exec op has no mount for output ${i}`);
      refs.push(await out());
    }
    return refs;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.views.disposeAsync();
    } finally {
      await this.holds.disposeAsync();
    }
  }
}

function commitOf(active: ActiveSnapshot): Output {
  return async () => snapshotRef(await active.commit());
}

/** The host path of `selector` inside a mounted tree, resolved in-root; it must exist. */
function selectorPath(root: string, selector: string | undefined, dest: string): string {
  if (!selector || posix.join("/", selector) === "/") return root;
  const path = resolveInRoot(root, selector, true);
  if (!lstatOrUndefined(path)) {
    throw new KitError("E_RUN_MOUNT", `mount source "${posix.join("/", selector)}" for "${dest}" does not exist`, {
      hint: "check the source= path of the mount; it is read from the mount's from= stage or image",
    });
  }
  return path;
}

/** Copies the context (or the part at `selector`) into `dest` through .dockerignore, owned by root. */
async function copyContext(context: LocalContext, selector: string | undefined, dest: string, signal: AbortSignal): Promise<void> {
  await copyInto(
    contextTree(context),
    dest,
    {
      src: selector || "/", dest: "/", dirCopyContents: true, followSymlinks: true, createDestPath: true,
      allowWildcard: false, allowEmptyWildcard: false,
    },
    signal,
  );
}

/** Where a copied context's selected part lies: the copy's root, or the file copied into it. */
function contextSource(copyRoot: string, ref: BuildRef | undefined, selector: string | undefined): string {
  if (ref?.kind !== "context" || !selector || posix.join("/", selector) === "/") return copyRoot;
  const isDir = lstatSync(resolveInRoot(ref.context.dir, selector, true)).isDirectory();
  return isDir ? copyRoot : `${copyRoot}/${posix.basename(posix.join("/", selector))}`;
}

export function missingSecret(id: string): KitError {
  return new KitError("E_RUN_SECRET", `secret "${id}" was not given to the build`, {
    hint: `pass it with --secret id=${id},src=FILE or --secret id=${id},env=VARIABLE (or mark the mount required=false)`,
  });
}
