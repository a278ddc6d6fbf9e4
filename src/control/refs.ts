// What a solved vertex produces: a committed snapshot, the local context, or nothing (scratch).
import type { LocalContext } from "../source/local.ts";
import type { SolverResult } from "../solver/vertex.ts";
import { KitError } from "../util/errors.ts";

export type SnapshotRef = SolverResult & { kind: "snapshot"; id: number };
export type ContextRef = SolverResult & { kind: "context"; context: LocalContext };
export type ScratchRef = SolverResult & { kind: "scratch" };

export type BuildRef = SnapshotRef | ContextRef | ScratchRef;

const noRelease = async () => {};

export function snapshotRef(id: number | null): SnapshotRef | ScratchRef {
  return id === null ? scratchRef() : { kind: "snapshot", id, release: noRelease };
}

export function scratchRef(): ScratchRef {
  return { kind: "scratch", release: noRelease };
}

export function contextRef(context: LocalContext): ContextRef {
  return { kind: "context", context, release: noRelease };
}

/** The snapshot a ref stands for, null for scratch; the context is not a snapshot. */
export function snapshotIdOf(ref: BuildRef): number | null {
  if (ref.kind === "snapshot") return ref.id;
  if (ref.kind === "scratch") return null;
  throw new KitError("E_INTERNAL", "the build context cannot be used as a filesystem here");
}
