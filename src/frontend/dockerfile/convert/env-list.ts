// A stage's environment ("K=V" entries in order) with constant-time set and get. Copying the whole
// list on every ENV or ARG made a Dockerfile of many ENV lines quadratic (8,000 lines took minutes);
// here a set costs O(1) and the list is rebuilt only when read after a change (a RUN reads it once).
import type { EnvGetter } from "../shell/lex.ts";

/**
 * How a set orders the entries: "move-to-end" as an llb state's environment (the key is removed
 * wherever it was, every copy of it, and appended), "in-place" as the image config's Env (the first
 * entry of the key is replaced, else the entry is appended).
 */
export type EnvOrder = "move-to-end" | "in-place";

export class EnvList {
  /** Entries in order; undefined where one was removed (compacted when the list is read). */
  private entries: Array<string | undefined> = [];
  /** For each key, the positions of its entries (more than one only if a base image repeats a key). */
  private readonly positions = new Map<string, number[]>();
  private cached: string[] | undefined;

  constructor(
    private readonly order: EnvOrder,
    initial: Iterable<string> = [],
  ) {
    for (const e of initial) this.append(keyOf(e), e);
  }

  /** A copy that changes independently. */
  clone(): EnvList {
    return new EnvList(this.order, this.list());
  }

  set(key: string, value: string): void {
    const entry = `${key}=${value}`;
    const at = this.positions.get(key);
    this.cached = undefined;
    if (at && this.order === "in-place") {
      this.entries[at[0] as number] = entry;
      return;
    }
    if (at) {
      for (const i of at) this.entries[i] = undefined;
      this.positions.delete(key);
    }
    this.append(key, entry);
  }

  /** The value of the last entry of `key` ("" for an entry without "="). */
  get(key: string): string | undefined {
    const at = this.positions.get(key);
    if (!at) return undefined;
    return valueOf(this.entries[at.at(-1) as number] as string, key);
  }

  /** The entries in order. The array is shared until the next set: callers must not change it. */
  list(): string[] {
    if (this.cached) return this.cached;
    const live = this.entries.filter((e): e is string => e !== undefined);
    if (live.length !== this.entries.length) this.reindex(live);
    this.cached = live;
    return live;
  }

  /** Reads the current values (for word expansion right away; it sees later sets too). */
  getter(): EnvGetter {
    return { get: (k) => this.get(k), keys: () => [...this.positions.keys()] };
  }

  private append(key: string, entry: string): void {
    const at = this.positions.get(key);
    if (at) at.push(this.entries.length);
    else this.positions.set(key, [this.entries.length]);
    this.entries.push(entry);
  }

  private reindex(live: string[]): void {
    this.entries = [...live];
    this.positions.clear();
    live.forEach((e, i) => {
      const key = keyOf(e);
      const at = this.positions.get(key);
      if (at) at.push(i);
      else this.positions.set(key, [i]);
    });
  }
}

function keyOf(entry: string): string {
  const eq = entry.indexOf("=");
  return eq < 0 ? entry : entry.slice(0, eq);
}

function valueOf(entry: string, key: string): string {
  return entry.length > key.length ? entry.slice(key.length + 1) : "";
}
