// Runs file ops (WORKDIR's mkdir, COPY, rm) on a fresh snapshot of the base. Context inputs are keyed
// by the checksum of exactly the files the copies read; other inputs by their cache keys.
import { digestOf } from "../../llb/digest.ts";
import type { ChownOpt, CopyAction, FileOp } from "../../llb/ops.ts";
import { copyInto } from "../../file/copy.ts";
import { mkdirAction, mkfileAction, rmAction } from "../../file/actions.ts";
import type { SourceTree } from "../../file/source-tree.ts";
import type { Mounted } from "../../snapshot/snapshotter.ts";
import type { OpRunner } from "../../solver/vertex.ts";
import { type ContextInputs, type ContextTrees, fileCacheDeps } from "./cache-digest.ts";
import type { Owner } from "../../fs/copy-tree.ts";
import { KitError } from "../../util/errors.ts";
import { cleanInRoot } from "../../fs/fs-safe.ts";
import { isNumericId, readGroup, readPasswd } from "../../fs/passwd.ts";
import { type BuildRef, scratchRef, snapshotIdOf, snapshotRef } from "../refs.ts";
import type { BuildSession } from "../session.ts";

export function fileRunner(session: BuildSession, op: FileOp, contextInputs: ContextInputs): OpRunner<BuildRef> {
  return {
    async cacheMap() {
      return { digest: digestOf(op), deps: fileCacheDeps(op, contextInputs, (ref) => checksumTree(ref, session)), cacheable: true };
    },
    async exec(inputs, ctx) {
      const baseRef = op.base >= 0 ? inputs[op.base] : undefined;
      const base = baseRef ? snapshotIdOf(baseRef) : null;
      if (op.actions.length === 0) return [base === null ? scratchRef() : snapshotRef(base)];
      await using active = await session.env.snapshotter.prepare(base, "file");
      {
        const top = newTopOf(op);
        await using mounted = await (top ? active.mountForNew(top) : active.mount());
        for (const action of op.actions) {
          if (action.action === "mkdir") mkdirAction(mounted.path, action, resolveOwner(mounted.path, action.owner));
          else if (action.action === "mkfile") mkfileAction(mounted.path, action, resolveOwner(mounted.path, action.owner));
          else if (action.action === "rm") rmAction(mounted.path, action);
          else await copyAction(session, mounted, action, inputs, ctx.signal);
        }
      }
      return [snapshotRef(await active.commit())];
    },
  };
}

/**
 * The top directory ("/src") a lone COPY writes under, when nothing it does needs the base's files:
 * a numeric owner (a name is looked up in the base's /etc/passwd) and a destination below "/".
 */
function newTopOf(op: FileOp): string | undefined {
  const [action] = op.actions;
  if (op.actions.length !== 1 || action?.action !== "copy") return undefined;
  const numeric = (id: string | number | undefined) => id === undefined || typeof id === "number" || isNumericId(id);
  if (action.owner && !(numeric(action.owner.user) && numeric(action.owner.group))) return undefined;
  const top = cleanInRoot(action.dest).split("/")[1];
  return top ? `/${top}` : undefined;
}

async function copyAction(session: BuildSession, dest: Mounted, action: CopyAction, inputs: BuildRef[], signal: AbortSignal): Promise<void> {
  const src = inputs[action.srcInput];
  if (!src) throw new KitError("E_INTERNAL", `copy reads input ${action.srcInput}, which does not exist`);
  const owner = resolveOwner(dest.path, action.owner);
  const params = { ...action, owner };
  if (src.kind === "context") return copyInto(contextTree(src.context, session), dest.path, params, signal);
  if (src.kind === "scratch") {
    throw new KitError("E_COPY_NOT_FOUND", `"${action.src}" not found: the source stage is empty`);
  }
  await using from = await session.env.snapshotter.mountReadonly(src.id);
  await copyInto({ root: from.path, resetOwner: false }, dest.path, params, signal);
}

/** The context behind a ref, as a tree to checksum whose entries the cache explainer records. */
export function checksumTree(ref: BuildRef, session: BuildSession): ReturnType<ContextTrees> {
  if (ref.kind !== "context") throw new KitError("E_INTERNAL", "a context checksum was asked of a ref that is not the context");
  const collector = session.explainer.collector();
  return { tree: { ...contextTree(ref.context, session), onEntry: collector.onEntry, onEntries: collector.onEntries }, done: collector.done };
}

/** The context as a tree to read: through .dockerignore, owned by root; with a session, its file
 * digests come from the build's hash memo. */
export function contextTree(context: import("../../source/local.ts").LocalContext, session?: BuildSession): SourceTree {
  return {
    root: context.dir,
    resetOwner: true,
    isExcluded: (rel) => context.isExcluded(rel),
    mustEnter: (rel) => context.mustEnter(rel),
    ...(session
      ? { entryDigest: session.entryDigestFor(context.dir), listDirectory: session.listDirectoryFor(context.dir), sourceDigests: session.sourceDigestsOf(context) }
      : {}),
  };
}

/**
 * A --chown (or WORKDIR's USER) user and group as ids; names are looked up in the destination's
 * /etc files. A name with no entry (or no file, as in FROM scratch) is id 0, as BuildKit's file
 * ops resolve it (solver/llbsolver/ops/user_linux.go readUser); only RUN needs the user to exist.
 */
export function resolveOwner(root: string, owner: ChownOpt | undefined): Owner | undefined {
  if (!owner) return undefined;
  let uid = 0;
  let gid: number | undefined;
  if (typeof owner.user === "number" || isNumericId(String(owner.user))) {
    uid = Number(owner.user);
  } else {
    const entry = readPasswd(root).find((p) => p.name === owner.user);
    uid = entry?.uid ?? 0;
    gid = entry?.gid ?? 0;
  }
  if (owner.group !== undefined) {
    if (typeof owner.group === "number" || isNumericId(String(owner.group))) gid = Number(owner.group);
    else {
      const g = readGroup(root).find((x) => x.name === owner.group);
      if (g) gid = g.gid;
    }
  }
  return { uid, gid: gid ?? uid };
}
