// Explaining cache misses (--debug-cache): each result is recorded with what its key was made of,
// by step; a miss is compared with the newest earlier record of the same step to say what changed:
// a file, a build arg or variable, the base image, the command, or a parent step.
import { decode, encode } from "@msgpack/msgpack";
import type { CacheIndex } from "../cache/index.ts";
import type { ContentStore } from "../content/store.ts";
import type { ExecOp, Op, OpMetadata } from "../llb/ops.ts";
import type { Digest } from "../oci/types.ts";
import type { KeyParts, SolverVertex } from "../solver/vertex.ts";
import type { SourceTree } from "../file/source-tree.ts";

type DepRecord = { kind: "key"; key: string; name: string } | { kind: "content"; checksum: string; files?: string };
type KeyRecord = { op: Op; deps: DepRecord[] };

const MAX_LISTED = 5;

/** A step's identity across builds: the Dockerfile, and the "[stage n/N] KEYWORD" of its name. */
function stepOf(contextDir: string, meta: OpMetadata): string | undefined {
  const m = /^(\[[^\]]*\]) (\S+)/.exec(meta.name ?? "");
  if (!m || !meta.location) return undefined;
  return `${contextDir}|${meta.location.file}|${m[1]?.replace(/\s+\d+\//, " ").replace(/\/\d+\]/, "]")}|${m[2]}`;
}

export class CacheExplainer {
  /** Per-file digests of the context checksums computed in this build, by checksum. */
  private readonly files = new Map<string, FileDigests>();

  constructor(
    private readonly index: CacheIndex,
    private readonly store: ContentStore,
    private readonly contextDir: string,
    private readonly names: (digest: string) => string,
  ) {}

  /** Forgets the per-file digests once the solve is over (records and explanations are made during it). */
  release(): void {
    this.files.clear();
  }

  /** A collector for one checksum's entries; call `done` with the checksum once it is known. */
  collector(): Pick<SourceTree, "onEntry" | "onEntries"> & { done: (checksum: string) => void } {
    const files = new FileDigests();
    return { onEntry: (rel, d) => files.add(rel, d), onEntries: (list) => files.addAll(list), done: (checksum) => void this.files.set(checksum, files) };
  }

  async record(key: string, v: SolverVertex, parts: KeyParts): Promise<void> {
    const step = stepOf(this.contextDir, v.meta);
    if (!step) return;
    const deps: DepRecord[] = [];
    for (const [i, d] of parts.deps.entries()) {
      if (d.kind === "key") deps.push({ kind: "key", key: d.key, name: this.names(v.vertex.inputs[i]?.digest ?? "") });
      else deps.push({ kind: "content", checksum: d.checksum, files: await this.saveFiles(d.checksum) });
    }
    const record: KeyRecord = { op: withoutProxy(v.vertex.op), deps };
    this.index.db.query("INSERT OR REPLACE INTO key_records (key, step, created, record) VALUES (?, ?, ?, ?)").run(key, step, Date.now(), encode(record));
  }

  private async saveFiles(checksum: string): Promise<string | undefined> {
    const entries = this.files.get(checksum)?.byPath();
    if (!entries) return undefined;
    const list = [...entries].sort(([a], [b]) => (a < b ? -1 : 1));
    // JSON, which Bun encodes natively: a context of 20,000 files took 55 ms in msgpack.
    return this.store.writeBytes(Buffer.from(JSON.stringify(list)));
  }

  async explain(key: string, v: SolverVertex, parts: KeyParts): Promise<string[]> {
    const step = stepOf(this.contextDir, v.meta);
    if (!step) return [];
    const row = this.index.db
      .query("SELECT record FROM key_records WHERE step = ? AND key != ? ORDER BY created DESC LIMIT 1")
      .get(step, key) as { record: Uint8Array } | null;
    if (!row) return ["no earlier build of this step is in the cache"];
    const before = decode(row.record) as KeyRecord;
    const reasons = opChanges(before.op, withoutProxy(v.vertex.op));
    for (const [i, d] of parts.deps.entries()) reasons.push(...(await this.depChanges(before.deps[i], d, v, i)));
    return reasons.length > 0 ? reasons : ["the step's inputs changed in a way kitbuild cannot name"];
  }

  private async depChanges(before: DepRecord | undefined, now: KeyParts["deps"][number], v: SolverVertex, i: number): Promise<string[]> {
    if (!before) return [`input ${i + 1} is new`];
    if (now.kind === "key") {
      if (before.kind === "key" && before.key === now.key) return [];
      return [`parent step ${JSON.stringify(this.names(v.vertex.inputs[i]?.digest ?? "") || `input ${i + 1}`)} changed`];
    }
    if (before.kind === "content" && before.checksum === now.checksum) return [];
    const old = before.kind === "content" && before.files ? await this.loadFiles(before.files) : undefined;
    const cur = this.files.get(now.checksum)?.byPath();
    if (!old || !cur) return ["files read from the build context changed"];
    return fileChanges(old, cur);
  }

  private async loadFiles(digest: string): Promise<Map<string, string> | undefined> {
    try {
      const bytes = await this.store.readBytes(digest as Digest);
      // Lists saved before kitbuild wrote JSON are msgpack (which never starts with "[").
      const list = bytes[0] === 0x5b ? JSON.parse(Buffer.from(bytes).toString("utf8")) : decode(bytes);
      return new Map(list as Array<[string, string]>);
    } catch {
      return undefined;
    }
  }
}

/**
 * One checksum's entries, kept as the lists they came in: a build whose steps all hit the cache
 * never asks for them, and copying a 20,000-file context's entries into a map took 10 ms of its
 * 0.18 s.
 */
class FileDigests {
  private readonly singles: string[] = [];
  private readonly lists: Array<readonly string[]> = [];
  private map?: Map<string, string>;

  add(rel: string, digest: string): void {
    this.singles.push(rel, digest);
    this.map = undefined;
  }

  /** Paths and digests in pairs. */
  addAll(list: readonly string[]): void {
    this.lists.push(list);
    this.map = undefined;
  }

  byPath(): Map<string, string> {
    if (this.map) return this.map;
    const map = new Map<string, string>();
    for (const list of [this.singles, ...this.lists]) for (let i = 0; i < list.length; i += 2) map.set(list[i] as string, list[i + 1] as string);
    this.map = map;
    return map;
  }
}

function withoutProxy(op: Op): Op {
  if (op.kind !== "exec") return op;
  const { proxyEnv: _p, ...meta } = op.meta;
  return { ...op, meta };
}

function fileChanges(old: Map<string, string>, cur: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [path, d] of cur) {
    if (!old.has(path)) out.push(`file "${path}" was added`);
    else if (old.get(path) !== d) out.push(`file "${path}" changed`);
  }
  for (const path of old.keys()) if (!cur.has(path)) out.push(`file "${path}" was removed`);
  if (out.length <= MAX_LISTED) return out;
  return [...out.slice(0, MAX_LISTED), `and ${out.length - MAX_LISTED} more file changes`];
}

function opChanges(before: Op, now: Op): string[] {
  if (before.kind !== now.kind) return ["the instruction changed"];
  if (now.kind === "source" && before.kind === "source") {
    return before.identifier === now.identifier ? [] : [`base image changed: ${before.identifier.replace(/^docker-image:\/\//, "")} → ${now.identifier.replace(/^docker-image:\/\//, "")}`];
  }
  if (now.kind === "exec" && before.kind === "exec") return execChanges(before, now);
  return JSON.stringify(before) === JSON.stringify(now) ? [] : ["the instruction's arguments changed"];
}

function execChanges(before: ExecOp, now: ExecOp): string[] {
  const out: string[] = [];
  const env = (list: string[]) => new Map(list.map((e) => [e.slice(0, e.indexOf("=") < 0 ? e.length : e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  const a = env(before.meta.env);
  const b = env(now.meta.env);
  for (const [k, v] of b) {
    if (!a.has(k)) out.push(`build arg or variable "${k}" was set`);
    else if (a.get(k) !== v) out.push(`build arg or variable "${k}" changed: ${JSON.stringify(a.get(k))} → ${JSON.stringify(v)}`);
  }
  for (const k of a.keys()) if (!b.has(k)) out.push(`build arg or variable "${k}" was unset`);
  if (JSON.stringify(before.meta.args) !== JSON.stringify(now.meta.args)) out.push("the command changed");
  if (before.meta.cwd !== now.meta.cwd || before.meta.user !== now.meta.user) out.push("the working directory or user changed");
  if (JSON.stringify(before.mounts) !== JSON.stringify(now.mounts) || before.network !== now.network || before.security !== now.security) {
    out.push("the step's mounts, network or security changed");
  }
  return out;
}
